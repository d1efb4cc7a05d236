"""Timestamps the way production wrote them: naive UTC with microseconds, no zone.

Production used `datetime.utcnow()` and let pydantic/FastAPI call `isoformat()`, so clients
see `2025-05-15T20:49:04.385874`. Every plugin shares these two helpers so that quirk lives
in one place.
"""
from datetime import datetime
from typing import Optional


def utcnow() -> datetime:
    """Naive UTC now (no tzinfo), microsecond precision."""
    return datetime.utcnow()


def iso(value: Optional[datetime]) -> Optional[str]:
    """`isoformat()` of a naive timestamp, or None; what FastAPI 0.92's encoder emits."""
    return value.isoformat() if value is not None else None
