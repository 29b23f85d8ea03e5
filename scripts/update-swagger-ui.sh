#!/usr/bin/env bash
# Refreshes the vendored Swagger UI under web/static/swagger-ui/ from the npm
# package swagger-ui-dist, so /docs works with no internet access.
#
#   scripts/update-swagger-ui.sh           # the latest version
#   scripts/update-swagger-ui.sh 5.35.0    # a given version
#
# Only the files /docs loads are kept, with the licence and the version,
# and compressed copies of the script and stylesheet (go generate ./web).
# Our initializer (web/static/js/docs.js) lives outside that folder.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-$(npm view swagger-ui-dist version)}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar -xzf swagger-ui-dist-*.tgz)

dest=web/static/swagger-ui
rm -rf "$dest"
mkdir -p "$dest"
for f in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
  if [ -f "$tmp/package/$f" ]; then
    cp "$tmp/package/$f" "$dest/"
  fi
done
echo "$version" >"$dest/VERSION"
# The compressed copies the server sends (web/gen_precompressed.go).
go generate ./web
echo "swagger-ui-dist $version is in $dest"
