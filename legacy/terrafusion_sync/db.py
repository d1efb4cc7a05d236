"""Database access of the sync service: one SQLAlchemy engine, search_path per connection.

DB_SCHEMA (e.g. "shadow_legacy,public") is applied on every new pooled connection so a
shadow instance writes its job rows to its own schema and still reads reference data from
public; doing it in the connect event means no code path can forget it.
"""
import os
import threading
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Tuple

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

_engine: Optional[Engine] = None
_sessionmaker: Optional[sessionmaker] = None
_lock = threading.Lock()


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    # SQLAlchemy 1.4 dropped the `postgres://` alias that Heroku-style URLs still use.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url


def _apply_search_path(dbapi_connection, _record) -> None:
    schema = os.environ.get("DB_SCHEMA", "").strip()
    if not schema:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("SELECT set_config('search_path', %s, false)", (schema,))
    cursor.close()
    # psycopg2 opened a transaction for the SET; commit so it is not rolled back on checkin.
    dbapi_connection.commit()


def get_engine() -> Engine:
    """The process-wide engine, created on first use."""
    global _engine, _sessionmaker
    if _engine is None:
        with _lock:
            if _engine is None:
                engine = create_engine(
                    database_url(),
                    pool_size=int(os.environ.get("DB_POOL_SIZE", "20")),
                    max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", "20")),
                    pool_pre_ping=True,
                    pool_recycle=1800,
                    future=True,
                )
                event.listen(engine, "connect", _apply_search_path)
                _sessionmaker = sessionmaker(bind=engine, future=True, expire_on_commit=False)
                _engine = engine
    return _engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    get_engine()
    assert _sessionmaker is not None
    session = _sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def where_equal(filters: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    """`WHERE a = :a AND ...` for the filters that are not None (empty when none), and its params."""
    present = {column: value for column, value in filters.items() if value is not None}
    if not present:
        return "", {}
    return "WHERE " + " AND ".join(f"{column} = :{column}" for column in present), present
