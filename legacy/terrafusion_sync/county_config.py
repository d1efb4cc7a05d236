"""County configurations: every COUNTY_CONFIGS_DIR/*/county.json, indexed by county_id.

The directory name is the RBAC key (benton, franklin, test); county_id is what the API uses
(benton_wa, franklin_wa, test_county). Loaded once and cached: production read them at start.
"""
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional

_DEFAULT_DIR = Path(__file__).resolve().parent.parent / "county_configs"
_cache: Optional[Dict[str, Dict[str, Any]]] = None


def configs_dir() -> Path:
    return Path(os.environ.get("COUNTY_CONFIGS_DIR") or _DEFAULT_DIR)


def load_all() -> Dict[str, Dict[str, Any]]:
    """county_id -> config dict (with `_dir_key`, the directory name, added)."""
    global _cache
    if _cache is None:
        configs: Dict[str, Dict[str, Any]] = {}
        base = configs_dir()
        for path in sorted(base.glob("*/county.json")):
            with open(path, encoding="utf-8") as handle:
                config = json.load(handle)
            config["_dir_key"] = path.parent.name
            configs[config["county_id"]] = config
        _cache = configs
    return _cache


def get(county_id: str) -> Optional[Dict[str, Any]]:
    return load_all().get(county_id)


def all_configs() -> List[Dict[str, Any]]:
    return list(load_all().values())


def rbac_counts(config: Dict[str, Any]) -> Dict[str, int]:
    """users_count/roles_count from county_configs/<key>/rbac/<key>_users.json; 0 when absent.

    Read on every request (not cached): the gateway writes these files while we run.
    """
    key = config.get("rbac_key") or config["_dir_key"]
    path = configs_dir() / config["_dir_key"] / "rbac" / f"{key}_users.json"
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {"users_count": 0, "roles_count": 0}
    users = data.get("users") or []
    roles = data.get("roles") or {}
    return {"users_count": len(users), "roles_count": len(roles)}
