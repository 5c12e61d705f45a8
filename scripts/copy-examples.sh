#!/usr/bin/env bash
# Copies each examples/X folder into a fresh module outside this repository
# (go mod init example.com/X, a require of the module and a replace to this
# checkout, go mod tidy), then runs go build, go vet and go test there: the
# examples are meant to be copied, so they must work on their own, with
# only the standard library and the module's public API.
# Usage: scripts/copy-examples.sh [X ...]   (default: every example)
# Needs the Go module proxy (or a module cache) for golang.org/x/sys.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
module=$(go list -m)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod # the copies have no vendor directory and a fresh go.sum
if [ $# -eq 0 ]; then set -- $(cd examples && ls -d */ | tr -d /); fi
fail=0
for x in "$@"; do
  echo "=== examples/$x"
  dir="$work/$x"
  cp -r "examples/$x" "$dir"
  # (set -e does not act inside a list tested with ||: every step is
  # chained with && instead.)
  (
    cd "$dir" &&
    go mod init "example.com/$x" >/dev/null 2>&1 &&
    go mod edit -require "$module@v0.0.0" -replace "$module=$repo" &&
    go mod tidy &&
    # Nothing but the module, its own dependencies and the stdlib.
    { ! grep -Eq 'testify|goleak' go.mod || { echo "examples/$x pulls in test libraries:"; cat go.mod; false; }; } &&
    go build ./... &&
    go vet ./... &&
    go test -count=1 ./...
  ) || { echo "examples/$x: FAILED in its own module"; fail=1; }
done
exit $fail
