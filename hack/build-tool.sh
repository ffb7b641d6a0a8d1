#!/usr/bin/env bash
# Builds one Go command from the Go module proxy into a directory, kept while its stamp (module path, version and
# Go version) matches: re-running is cheap. Usage: hack/build-tool.sh OUTDIR NAME PACKAGE VERSION
#   hack/build-tool.sh bin helm helm.sh/helm/v4/cmd/helm v4.3.2
set -euo pipefail

out=$1 name=$2 pkg=$3 version=$4
mkdir -p "$out"
out=$(cd "$out" && pwd)
want="$pkg@$version $(go env GOVERSION)"
if [[ -x "$out/$name" && -f "$out/.$name.stamp" && "$(cat "$out/.$name.stamp")" == "$want" ]]; then
  exit 0
fi
echo "  $name: building $pkg@$version from the Go module proxy..."
start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# go install with a version builds in module mode outside any go.mod: the tool's dependencies never enter the
# operator's go.mod. -trimpath keeps the binary independent of where it was built.
GOBIN="$tmp" GOFLAGS=-trimpath go install "$pkg@$version"
mv "$tmp/$(basename "$pkg")" "$out/$name"
echo "$want" >"$out/.$name.stamp"
echo "  $name: built in $((SECONDS - start))s ($out/$name)"
