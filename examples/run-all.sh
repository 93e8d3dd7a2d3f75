#!/usr/bin/env bash
# Runs every example program (built by `dotnet build examples/Tessera.Examples`) in WORKDIR: first the example data,
# then each method's README program on it. Exits non-zero on the first failure.
set -euo pipefail
work=${1:?usage: examples/run-all.sh WORKDIR}
here=$(cd "$(dirname "$0")" && pwd)
exe="$here/Tessera.Examples/bin/Release/net10.0/Tessera.Examples"
mkdir -p "$work"
"$exe" "$work"
