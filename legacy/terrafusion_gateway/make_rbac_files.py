"""Writes the sample counties' RBAC files with the platform's demo users.

`python3 -m terrafusion_gateway.make_rbac_files [county_configs_dir]`. Re-running changes the
salts (and so the hashes) but not who can log in with what.
"""

import json
import os
import sys

from werkzeug.security import generate_password_hash

from .settings import load_settings

# What both read-only roles may see.
READ_PERMISSIONS = [
    "view_property_data",
    "view_gis_export_status",
    "view_gis_export_results",
    "view_valuation_results",
    "view_reports",
    "view_market_analysis",
]

# The four roles of the platform. Staff and Auditor are the read-only bases; Assessor runs
# jobs; ITAdmin inherits from both sides and administers.
ROLES = {
    "ITAdmin": {
        "description": "IT administrator: every permission of Assessor and Auditor, plus administration.",
        "permissions": ["manage_users", "manage_roles", "manage_county_configs", "view_system_health"],
        "inherits_permissions_from": ["Assessor", "Auditor"],
    },
    "Assessor": {
        "description": "Assessor: runs exports, valuations, reports and market analyses.",
        "permissions": [
            "run_gis_export",
            "execute_valuation",
            "generate_report",
            "run_market_analysis",
        ],
        "inherits_permissions_from": ["Staff"],
    },
    "Staff": {
        "description": "Staff: reads job status and results, uses the AI narrator.",
        "permissions": READ_PERMISSIONS + ["use_ai_narrator"],
        "inherits_permissions_from": [],
    },
    "Auditor": {
        "description": "Auditor: read-only access to job status, results and the audit log.",
        "permissions": ["audit_log_view"] + READ_PERMISSIONS,
        "inherits_permissions_from": [],
    },
}

DEMO_USERS = [
    (1, "admin", "admin123", "ITAdmin", "IT Administrator"),
    (2, "assessor", "assessor123", "Assessor", "County Assessor"),
    (3, "staff", "staff123", "Staff", "Assessment Staff"),
    (4, "auditor", "auditor123", "Auditor", "County Auditor"),
]

SAMPLE_KEYS = ["benton", "franklin", "test"]

# County-bound users, listed only in their own county's file: they exercise county scoping
# (an Assessor of Benton may not run a Franklin export).
COUNTY_USERS = {
    "benton": [(5, "benton_assessor", "benton123", "Assessor", "Benton County Assessor")],
    "franklin": [(6, "franklin_staff", "franklin123", "Staff", "Franklin County Staff")],
    "test": [],
}


def _user(entry, county_keys):
    user_id, username, password, role, full_name = entry
    return {
        "id": user_id,
        "username": username,
        "password_hash": generate_password_hash(password, method="pbkdf2:sha256"),
        "role": role,
        "full_name": full_name,
        "county_ids": list(county_keys),
        "active": True,
    }


def main(argv):
    configs_dir = argv[1] if len(argv) > 1 else load_settings().county_configs_dir
    # One hash per demo user, shared by all files, so the merged view of the files is consistent.
    demo_users = [_user(entry, SAMPLE_KEYS) for entry in DEMO_USERS]
    for key in SAMPLE_KEYS:
        users = demo_users + [_user(entry, [key]) for entry in COUNTY_USERS[key]]
        path = os.path.join(configs_dir, key, "rbac", f"{key}_users.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        document = {"county": key, "roles": ROLES, "users": users}
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
