#!/usr/bin/env bash
# STEM mini-batch fidelity (issue 17): MERFISH animal 1, Bregma 0.26, tiled pseudo-spots (30x40 grid, seed 0: 5,584 cells,
# 1,043 spots), full batch vs mini-batches forced (BATCH=1024, the automatic mode's tile size: 2 tiles of ~520 spots; all
# cells per step), same epochs, a few training seeds on both sides. EPOCH=pass (default) makes a mini-batch epoch one pass
# over the tiles (--minibatch-epoch pass), EPOCH=step one optimiser step. A run whose log is complete is not run again.
# Usage: [BATCH=N] [EPOCH=pass|step] bench/Stem/fidelity.sh OUTDIR [EPOCHS] [SEEDS...]   (from the repository root)
set -euo pipefail
out=${1:?usage: fidelity.sh OUTDIR [EPOCHS] [SEEDS...]}
epochs=${2:-400}
mode=${EPOCH:-pass}
shift $(( $# >= 2 ? 2 : 1 ))
seeds=("${@:-2022 1 2}")
mkdir -p "$out"
dotnet build bench/Stem -c Release 2>&1 | grep -E "rror\(s\)"
bench=$(pwd)/bench/Stem/bin/Release/net10.0/linux-x64/StemBench.dll
[[ -f $bench ]] || bench=$(pwd)/bench/Stem/bin/Release/net10.0/StemBench.dll
for seed in ${seeds[@]}; do
  for batch in 0 ${BATCH:-1024}; do
    log="$out/merfish_b${batch}_${mode}_s$seed.log"
    grep -qE '^stem ' "$log" 2>/dev/null ||
    STEM_THREADS=1 STEM_SEED=$seed STEM_BATCH_SPOTS=$batch STEM_MINIBATCH_EPOCH=$mode dotnet "$bench" merfish "$epochs" 0.26 0 > "$log" 2>&1
    echo "batch $batch ($mode) seed $seed: $(grep -E '^stem ' "$log") | $(grep -E '^STEM fit' "$log")"
  done
done
