#!/bin/sh
# Prints a .env for docker compose with fresh random secrets:  sh deploy/make-env.sh > .env
set -eu
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
echo "ZHICHAN_JWT_SECRET=$(random)"
echo "ZHICHAN_JWT_PUBLIC_KEY="
for name in POSTGRES PG_TARGETS PG_ENFORCEMENT PG_FINANCING PG_AGENCIES PG_GATEWAY; do
    echo "${name}_PASSWORD=$(random)"
done
