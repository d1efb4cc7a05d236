#!/bin/sh
# Idempotent set-up for a fresh machine: Debian packages the legacy platform needs, then npm
# packages, then gdal-async's binding against libgdal-dev (scripts/gdal-binding.sh). Fast when everything is already there (dpkg-query and a node_modules check only).
set -eu
cd "$(dirname "$0")/.."

# What the platform runs on (the legacy services' Python, GDAL): `cutover bundle` ships these with
# their dependencies, and a built tree (the bundle) checks only these (--runtime-only).
DEBIAN_RUNTIME_PACKAGES="python3-fastapi python3-uvicorn python3-flask python3-sqlalchemy python3-psycopg2 python3-gdal python3-jwt python3-prometheus-client python3-requests python3-httpx python3-multipart gdal-bin"
# ...and what building gdal-async, the benchmarks and the tests need besides.
DEBIAN_PACKAGES="$DEBIAN_RUNTIME_PACKAGES libgdal-dev build-essential nginx-light wrk prometheus docker-compose haproxy chromium postgresql-15"

mode="${1:-}"
wanted="$DEBIAN_PACKAGES"
[ "$mode" = "--runtime-only" ] && wanted="$DEBIAN_RUNTIME_PACKAGES"

missing=""
for pkg in $wanted; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  case "$status" in *"install ok installed"*) ;; *) missing="$missing $pkg" ;; esac
done
if [ -n "$missing" ]; then
  if [ "$mode" = "--runtime-only" ]; then
    # A built tree is where there may be no network: its bundle carries the packages.
    echo "setup: CUTOVER_ERR_MISSING_PACKAGES: these Debian packages are missing:$missing" >&2
    echo "  from the unpacked bundle, as root: ./install.sh (no network needed); or apt-get install -y$missing" >&2
    exit 3
  elif [ "$(id -u)" = "0" ]; then
    echo "setup: installing Debian packages:$missing" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
  else
    echo "setup: CUTOVER_ERR_MISSING_PACKAGES: these Debian packages are missing:$missing" >&2
    echo "  run as root: apt-get update && apt-get install -y$missing" >&2
    exit 3
  fi
fi

# `cutover up` calls this with --system-only: it needs the Debian packages, npm is already done.
[ "$mode" = "--system-only" ] || [ "$mode" = "--runtime-only" ] && exit 0

if [ -L node_modules ]; then
  # A link to an install shared by several checkouts (git worktrees): npm ci would empty the
  # shared tree through the link and replace the link with a directory of its own.
  if [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: node_modules links to a shared install older than package-lock.json; not running npm ci through the link (run it where the install lives)" >&2
  fi
elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi

# npm does not run gdal-async's install script (allowScripts); its build against Debian's GDAL is here.
sh scripts/gdal-binding.sh
