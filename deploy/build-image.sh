#!/bin/sh
# Builds quill's container image from this checkout: a static quill
# (CGO_ENABLED=0, -trimpath) and the machine's CA certificates in an image
# FROM scratch (deploy/Containerfile). Nothing is pulled from a registry.
#
# Usage: deploy/build-image.sh [IMAGE]     IMAGE defaults to localhost/quill:latest
#
# CONTAINER_TOOL names the builder, podman (the default) or docker;
# CA_BUNDLE the certificate bundle to copy (default: Debian's and Ubuntu's
# /etc/ssl/certs/ca-certificates.crt, from the ca-certificates package).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
image=${1:-localhost/quill:latest}
tool=${CONTAINER_TOOL:-podman}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

if [ ! -s "$ca" ]; then
  echo "build-image.sh: no CA certificates at $ca; install ca-certificates or set CA_BUNDLE" >&2
  exit 1
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT

(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$context/quill" ./cmd/quill)
cp "$ca" "$context/ca-certificates.crt"
# COPY makes folders 0755 and root's whatever they were; ADD unpacks a tar
# with the owners and modes it holds: /data quill's user's alone, /tmp
# everyone's (sticky). GNU tar writes the owners.
mkdir -p "$context/dirs/data" "$context/dirs/tmp"
chmod 0700 "$context/dirs/data"
chmod 1777 "$context/dirs/tmp"
tar --create --file "$context/dirs.tar" --numeric-owner --owner=0 --group=0 -C "$context/dirs" ./tmp
tar --append --file "$context/dirs.tar" --numeric-owner --owner=65532 --group=65532 -C "$context/dirs" ./data

# The docker format keeps HEALTHCHECK, which the OCI format has no field for.
format=
[ "$tool" = podman ] && format="--format docker"
# shellcheck disable=SC2086 # $format is one option or none
"$tool" build $format --file "$root/deploy/Containerfile" --tag "$image" "$context"
