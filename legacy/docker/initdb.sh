#!/bin/sh
# Applies the versioned legacy schema (reference data, then job tables) on first start of the
# compose PostgreSQL — the same SQL files `cutover migrate` applies natively.
set -eu
for set in reference jobs; do
  for file in /migrations/$set/*.sql; do
    echo "applying $set/$(basename "$file")"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f "$file"
  done
done
