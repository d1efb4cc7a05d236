"""Users, roles and county mapping of the legacy gateway, read from the county configs.

Reproduces the legacy loader of `county_configs/<key>/rbac/<key>_users.json` (format in
README.md next to this file). The RBAC files name counties by their short `rbac_key`
(benton, franklin, test) while the platform uses county ids (benton_wa, ...): each
county.json carries both, and this module is the one place that maps between them.
"""

import glob
import json
import os

from werkzeug.security import check_password_hash


class RbacStore:
    """Immutable snapshot of every county's RBAC file and the rbac_key <-> county_id map."""

    def __init__(self, roles, users, key_to_county_id):
        self._roles = roles
        self._users_by_username = {u["username"]: u for u in users}
        self._users_by_id = {str(u["id"]): u for u in users}
        self._key_to_county_id = key_to_county_id
        self._county_id_to_key = {v: k for k, v in key_to_county_id.items()}
        self._permissions_cache = {}

    # --- users -----------------------------------------------------------------------------
    def authenticate(self, username, password):
        """The active user whose password matches, else None (unknown, inactive, bad password alike)."""
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        user = self._users_by_username.get(username)
        if user is None or user.get("active") is False:
            return None
        if not check_password_hash(user["password_hash"], password):
            return None
        return user

    def user_by_id(self, user_id):
        return self._users_by_id.get(str(user_id))

    # --- roles -----------------------------------------------------------------------------
    def permissions_of(self, role):
        """The role's own permissions plus everything inherited, transitively (cycles ignored)."""
        if role not in self._permissions_cache:
            seen, pending, perms = set(), [role], set()
            while pending:
                name = pending.pop()
                if name in seen or name not in self._roles:
                    continue
                seen.add(name)
                definition = self._roles[name]
                perms.update(definition.get("permissions", []))
                pending.extend(definition.get("inherits_permissions_from", []))
            self._permissions_cache[role] = frozenset(perms)
        return self._permissions_cache[role]

    # --- counties --------------------------------------------------------------------------
    def county_ids_for_keys(self, keys):
        """Platform county ids a user's `county_ids` (RBAC keys) grant access to."""
        allowed = set()
        for key in keys or []:
            allowed.add(self._key_to_county_id.get(key, key))
        return allowed

    def rbac_key_of(self, county_id):
        return self._county_id_to_key.get(county_id, county_id)


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_rbac_store(county_configs_dir):
    """Read every county.json and RBAC file under the folder.

    A username may appear in several county files (the demo users do): the first file in key
    order defines the user and the county lists are merged. Roles are merged the same way.
    """
    key_to_county_id = {}
    for county_json in sorted(glob.glob(os.path.join(county_configs_dir, "*", "county.json"))):
        config = _read_json(county_json)
        key = config.get("rbac_key") or os.path.basename(os.path.dirname(county_json))
        key_to_county_id[key] = config["county_id"]

    roles, users, order = {}, {}, []
    pattern = os.path.join(county_configs_dir, "*", "rbac", "*_users.json")
    for rbac_file in sorted(glob.glob(pattern)):
        data = _read_json(rbac_file)
        for name, definition in data.get("roles", {}).items():
            roles.setdefault(name, definition)
        for user in data.get("users", []):
            existing = users.get(user["username"])
            if existing is None:
                users[user["username"]] = dict(user, county_ids=list(user.get("county_ids", [])))
                order.append(user["username"])
            else:
                for key in user.get("county_ids", []):
                    if key not in existing["county_ids"]:
                        existing["county_ids"].append(key)
    return RbacStore(roles, [users[name] for name in order], key_to_county_id)
