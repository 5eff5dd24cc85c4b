#!/bin/sh
# Prints the Secrets the manifests reference, with fresh random passwords, for the setup with
# CloudNativePG (deploy/k8s/kustomization.yaml):
#   zhichan-jwt          ZHICHAN_JWT_SECRET, or with ZHICHAN_JWT_PUBLIC_KEY_FILE=idp.pem set, the
#                        identity provider's public key as ZHICHAN_JWT_PUBLIC_KEY
#   zhichan-pg-<name>    each process's PostgreSQL role (the Cluster's managed roles)
#   zhichan-database     each process's <NAME>_DATABASE_URL, with that role's password
# Apply once, before the manifests:   sh deploy/k8s/make-secrets.sh | kubectl apply -f -
# (run again, it would make new passwords). For an external PostgreSQL see deploy/README.md.
set -eu
namespace="${NAMESPACE:-zhichan}"
host="${PG_HOST:-zhichan-pg-rw}"
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

secret_header() {  # name [type]
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: %s\nstringData:\n' \
        "$1" "$namespace" "${2:-Opaque}"
}

secret_header zhichan-jwt
if [ -n "${ZHICHAN_JWT_PUBLIC_KEY_FILE:-}" ]; then
    echo "  ZHICHAN_JWT_PUBLIC_KEY: |"
    sed 's/^/    /' "$ZHICHAN_JWT_PUBLIC_KEY_FILE"
else
    echo "  ZHICHAN_JWT_SECRET: \"$(random)\""
fi

urls=""
for name in targets enforcement financing agencies gateway; do
    password="$(random)"
    secret_header "zhichan-pg-$name" kubernetes.io/basic-auth
    echo "  username: \"$name\""
    echo "  password: \"$password\""
    upper="$(echo "$name" | tr '[:lower:]' '[:upper:]')"
    urls="$urls  ${upper}_DATABASE_URL: \"postgresql+asyncpg://$name:$password@$host:5432/$name\"
"
done
secret_header zhichan-database
printf '%s' "$urls"
