#!/usr/bin/env bash
# Runs every test of the module: installs the local AWS-compatible test
# servers (tools/testservers, npm) when they are missing or out of date, then
# runs go test with the race detector. Extra arguments go to go test:
#
#   ./tools/test.sh                                 # everything
#   ./tools/test.sh -run TestKinesis -v             # some tests, all packages
#   ./tools/test.sh -v ./internal/testserver/       # some packages
#
# Needs Go, Node.js >= 20 and npm. Each test binary starts the servers it
# needs itself (internal/testserver); set TEST_KINESIS_ENDPOINT etc. to use
# servers that are already running (see tools/testservers/testservers.sh env).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
servers="$root/tools/testservers"

# npm ci writes node_modules/.package-lock.json last, so its absence or age
# tells whether the install is missing, interrupted or older than the lock.
if [ ! -f "$servers/node_modules/.package-lock.json" ] ||
	[ "$servers/package-lock.json" -nt "$servers/node_modules/.package-lock.json" ]; then
	echo "test.sh: installing test servers (tools/testservers/testservers.sh install)" >&2
	"$servers/testservers.sh" install
fi

# Packages named in the arguments (./x, ./x/...) replace the default ./...
pkgs=(./...)
for arg in "$@"; do
	case $arg in ./* | ../*) pkgs=() ;; esac
done

cd "$root"
exec go test -race -count=1 "${pkgs[@]}" "$@"
