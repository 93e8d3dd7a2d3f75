#!/usr/bin/env bash
# STEM mini-batch fidelity (issue 17): MERFISH animal 1, Bregma 0.26, tiled pseudo-spots (30x40 grid, seed 0: 5,584 cells,
# 1,043 spots), full batch vs mini-batches forced (BATCH=1024, the automatic mode's tile size: 2 tiles of ~520 spots; 2,048
# cells per step), same epochs, a few training seeds on both sides. A run whose log is complete is not run again.
# Usage: [BATCH=N] bench/Stem/fidelity.sh OUTDIR [EPOCHS] [SEEDS...]   (from the repository root)
set -euo pipefail
out=${1:?usage: fidelity.sh OUTDIR [EPOCHS] [SEEDS...]}
epochs=${2:-200}
shift $(( $# >= 2 ? 2 : 1 ))
seeds=("${@:-2022 1 2}")
mkdir -p "$out"
dotnet build bench/Stem -c Release 2>&1 | grep -E "rror\(s\)"
bench=$(pwd)/bench/Stem/bin/Release/net10.0/linux-x64/StemBench.dll
[[ -f $bench ]] || bench=$(pwd)/bench/Stem/bin/Release/net10.0/StemBench.dll
for seed in ${seeds[@]}; do
  for batch in 0 ${BATCH:-1024}; do
    grep -qE '^stem ' "$out/merfish_b${batch}_s$seed.log" 2>/dev/null ||
    STEM_THREADS=1 STEM_SEED=$seed STEM_BATCH_SPOTS=$batch dotnet "$bench" merfish "$epochs" 0.26 0 > "$out/merfish_b${batch}_s$seed.log" 2>&1
    echo "batch $batch seed $seed: $(grep -E '^stem ' "$out/merfish_b${batch}_s$seed.log") | $(grep -E '^STEM fit' "$out/merfish_b${batch}_s$seed.log")"
  done
done
