#!/usr/bin/env bash
# One database and one login role per process, each role owning its database and nothing else.
# The postgres image runs this once, when its data directory is empty (docker-entrypoint-initdb.d).
#   ZHICHAN_DATABASES      the processes: "targets enforcement financing agencies gateway"
#   PG_<NAME>_PASSWORD     the password of each process's role
# Any libpq variable (PGHOST, PGPORT …) points psql elsewhere, e.g. at a managed server.
set -euo pipefail

for name in ${ZHICHAN_DATABASES:?list the databases to create}; do
    password_var="PG_${name^^}_PASSWORD"
    password="${!password_var:?set $password_var}"
    psql --no-psqlrc --set ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        --set name="$name" --set password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
-- Other processes' roles may not even connect: each process sees its own data only.
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
    echo "database and role $name created"
done
