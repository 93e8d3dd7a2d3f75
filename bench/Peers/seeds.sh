#!/usr/bin/env bash
# Seed spread of the peers table's training rows (stem-epoch, spotscape-epoch): the rows' own commands with other seeds,
# on the data files bench/peers.sh left in OUT. Prints the ROW lines; compare means, not seed pairs (the sides draw
# different random streams).
#   bench/Peers/seeds.sh OUT [EPOCHS=100] [SEEDS="1 2 3"]
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: bench/Peers/seeds.sh OUT [EPOCHS] [SEEDS]}; EP=${2:-100}; SEEDS=${3:-1 2 3}; PY=/usr/bin/python3
for s in $SEEDS; do
  env STEM_ROW=1 STEM_THREADS=1 STEM_SEED=$s dotnet bench/Stem/bin/Release/net10.0/linux-x64/StemBench.dll merfish $EP 0.26 0 2>&1 | grep "^ROW"
  env STEM_ROW=1 STEM_THREADS=1 $PY bench/Stem/crosscheck.py "$OUT/stem" $EP $s 2>&1 | grep "^ROW"
  env SPOTSCAPE_ROW=1 dotnet bench/Spotscape/bin/Release/net10.0/linux-x64/Spotscape.Bench.dll "$OUT/spotscape_151673" $s $EP 2 "$OUT/spotscape_seed$s.f32" 2>&1 | grep "^ROW"
  $PY bench/Spotscape/spotscape_torch.py "$OUT/spotscape_151673" $s $EP 2 row 2>&1 | grep "^ROW"
done
