#!/bin/sh
# Re-vendor Swagger UI from the npm package swagger-ui-dist into gateway/vendor/swagger_ui/:
#   gateway/vendor/update_swagger_ui.sh 5.35.0      (or: make vendor-swagger-ui VERSION=5.35.0)
# Only the files /docs loads are kept, with the licences. `npm pack` fetches the tarball and checks
# it against the registry's integrity hash; it runs no install scripts.
set -eu
version="${1:?usage: $0 <swagger-ui-dist version, e.g. 5.35.0>}"
case "$version" in
    5.*) ;;
    *) echo "swagger-ui-dist $version: /docs needs Swagger UI 5 (FastAPI emits OpenAPI 3.1)" >&2; exit 1 ;;
esac
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/swagger_ui"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent --json "swagger-ui-dist@$version" > pack.json)
integrity="$(node -e 'console.log(require(process.argv[1])[0].integrity)' "$work/pack.json")"
tar -xzf "$work/swagger-ui-dist-$version.tgz" -C "$work"
packed="$(node -e 'console.log(require(process.argv[1]).version)' "$work/package/package.json")"
[ "$packed" = "$version" ] || { echo "asked for $version, got $packed" >&2; exit 1; }

rm -rf "$target"
mkdir -p "$target"
for name in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css \
        favicon-32x32.png favicon-16x16.png LICENSE NOTICE; do
    cp "$work/package/$name" "$target/$name"
done
printf '%s\n' "$version" > "$target/VERSION"
cat > "$target/README.md" <<README
# Swagger UI $version (vendored)

The gateway's \`/docs\` page loads these files from \`/static/swagger-ui/\` (gateway/openapi.py),
so the API docs work on an intranet with no CDN.

- Source: npm package [\`swagger-ui-dist@$version\`](https://www.npmjs.com/package/swagger-ui-dist/v/$version),
  tarball \`https://registry.npmjs.org/swagger-ui-dist/-/swagger-ui-dist-$version.tgz\`,
  integrity \`$integrity\`.
- Files are copied unchanged; only those the page needs are kept: \`swagger-ui-bundle.js\`
  (it contains the standalone preset FastAPI's page uses), \`swagger-ui.css\`, the favicons, and the
  licences (\`LICENSE\`, \`NOTICE\`: Apache-2.0, SmartBear Software; \`swagger-ui-bundle.js.LICENSE.txt\`:
  the notices of the libraries bundled in it). \`VERSION\` holds the version; the page's asset URLs carry
  it, so browsers fetch the new files after an update.
- Update: \`make vendor-swagger-ui VERSION=<5.x.y>\` (runs \`gateway/vendor/update_swagger_ui.sh\`,
  which needs \`npm\`), then \`pytest gateway/tests/integration/test_docs.py\` and
  \`pytest tests/browser -k docs\`. Swagger UI must stay at 5 or later: FastAPI emits OpenAPI 3.1.
README
echo "vendored swagger-ui-dist $version into $target"
