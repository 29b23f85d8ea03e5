#!/usr/bin/env bash
# Checks that tools other than ours read quill's OpenAPI document:
#
#   1. the golden copy, internal/server/testdata/openapi.json, is what the
#      server serves at /openapi.json (TestOpenAPIDocument);
#   2. Redocly's linter finds no error in it with its recommended rules;
#   3. oapi-codegen generates a Go client from it as it is (types and client,
#      no option but the package name), which builds and passes go vet.
#
#   scripts/check-openapi.sh
#
# Needs Go, Node.js with npm, and oapi-codegen at the version below:
#   go install github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2
# Redocly comes from scripts/openapi/ (package-lock.json); without its
# node_modules, npm ci installs it. Only the Go module proxy and the npm
# registry are contacted. Any failure stops the script with a non-zero status.
set -euo pipefail
cd "$(dirname "$0")/.."

oapi_codegen_version=v2.8.2
runtime_version=v1.9.0 # github.com/oapi-codegen/runtime, which the generated client imports
doc=internal/server/testdata/openapi.json

fail() {
  echo "check-openapi: FAIL: $*" >&2
  exit 1
}

echo "--- $doc is the document the server serves"
go test -count=1 ./internal/server -run '^TestOpenAPIDocument$' ||
  fail "$doc differs from /openapi.json; if the change is meant: go test ./internal/server -run '^TestOpenAPIDocument\$' -update"

echo "--- Redocly lint, recommended rules"
redocly=scripts/openapi/node_modules/.bin/redocly
if [ ! -x "$redocly" ]; then
  (cd scripts/openapi && npm ci --ignore-scripts --no-audit --no-fund) || fail "npm ci in scripts/openapi failed"
fi
# Otherwise Redocly sends usage data and looks for updates, on hosts
# other than the npm registry.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true \
  "$redocly" lint --extends recommended --format stylish "$doc" ||
  fail "Redocly reports errors in $doc"

echo "--- oapi-codegen $oapi_codegen_version: a Go client that builds"
command -v oapi-codegen >/dev/null ||
  fail "no oapi-codegen: go install github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@$oapi_codegen_version"
version=$(oapi-codegen -version | tail -n 1)
[ "$version" = "$oapi_codegen_version" ] ||
  fail "oapi-codegen is $version, want $oapi_codegen_version: go install github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@$oapi_codegen_version"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
client=$tmp/quillclient
mkdir "$client"
oapi-codegen -generate types,client -package quillclient "$doc" >"$client/client.go" ||
  fail "oapi-codegen cannot generate a client from $doc"
# A module of its own, outside any workspace, that needs only the runtime.
inclient() { GOWORK=off go -C "$client" "$@"; }
# go mod init's advice to run go mod tidy is noise here; its errors are not.
inclient mod init example.com/quillclient 2>"$tmp/init.log" || { cat "$tmp/init.log" >&2; fail "go mod init failed"; }
inclient get "github.com/oapi-codegen/runtime@$runtime_version" ||
  fail "cannot get github.com/oapi-codegen/runtime@$runtime_version"
inclient build ./... || fail "the client oapi-codegen generates from $doc does not build"
inclient vet ./... || fail "the client oapi-codegen generates from $doc does not pass go vet"
echo "the client ($(wc -l <"$client/client.go") lines of Go) builds and passes go vet"

echo "check-openapi: ok"
