#!/usr/bin/env bash
# Spotscape on large data (issue 17): mini-batch fidelity on DLPFC 151673 and the synthetic Visium HD scale table.
# Usage: bench/Spotscape/large_data.sh OUTDIR [fidelity|scale|integrate|all] [SIZES...]   (from the repository root)
# integrate: two serial sections of one simulated tissue of the first SIZE (seed 0, sections 0 and 1, the second with a
# gene-wise batch effect σ = 0.5) integrated in the automatic mini-batch mode (random spots of both slices per step).
# Peak memory and wall time come from /usr/bin/time -v (GNU time); 1 torch thread (OMP_NUM_THREADS=1).
set -euo pipefail
out=${1:?usage: large_data.sh OUTDIR [fidelity|scale|all] [SIZES...]}
what=${2:-all}
shift $(( $# >= 2 ? 2 : 1 ))
sizes=("${@:-100000}")
mkdir -p "$out"
dotnet build src/Tessera.Cli -c Release 2>&1 | grep -E "rror\(s\)"
cli="dotnet $(pwd)/src/Tessera.Cli/bin/Release/net10.0/linux-x64/Tessera.Cli.dll"
export OMP_NUM_THREADS=1
if [[ $what == fidelity || $what == all ]]; then
  d=../shared/data/dlpfc/151673
  # mini-batch forced: 4 tiles of ~910 spots, 1000 optimiser steps (= the full-batch protocol's 1000 epochs), k-means
  for seed in 0 1 2 3 4; do
    /usr/bin/time -v $cli domains $d --obs $d/spots.csv.gz --clusters 7 --radius 150 \
      --truth-column layer_guess_reordered --batch-spots 1000 --seed $seed --no-umap \
      --out "$out/dlpfc_mb_s$seed" --overwrite > "$out/dlpfc_mb_s$seed.log" 2>&1
    grep -E "^\[.*ARI" "$out/dlpfc_mb_s$seed.log" | head -1
  done
fi
if [[ $what == scale || $what == all ]]; then
  for n in "${sizes[@]}"; do
    /usr/bin/time -v $cli simulate tissue --spots "$n" --platform visium-hd --seed 0 -o "$out/hd$n.h5ad" > "$out/hd$n.sim.log" 2>&1
    # automatic mode: above 10,000 spots mini-batches of 4096-spot tiles; no UMAP (a figure of N points)
    /usr/bin/time -v $cli domains "$out/hd$n.h5ad" --clusters 7 --truth-column layer --no-umap \
      --out "$out/hd${n}_run" --overwrite > "$out/hd$n.log" 2>&1
    grep -E "^\[.*ARI|Elapsed|Maximum resident|User time|System time" "$out/hd$n.log"
  done
fi
if [[ $what == integrate || $what == all ]]; then
  n=${sizes[0]}
  for s in 0 1; do
    [[ -f "$out/hd${n}_sec$s.h5ad" ]] || /usr/bin/time -v $cli simulate tissue --spots "$n" --platform visium-hd --seed 0 \
      --section $s --batch-effect $([[ $s == 0 ]] && echo 0 || echo 0.5) -o "$out/hd${n}_sec$s.h5ad" > "$out/hd${n}_sec$s.sim.log" 2>&1
  done
  # two slices of N bins each: above 10,000 spots mini-batch mode (512 random spots of each slice per step, with their
  # 2-hop neighbourhoods), reconstruction + telescope + similarity-scale matching + prototypes
  /usr/bin/time -v $cli integrate "$out/hd${n}_sec0.h5ad" "$out/hd${n}_sec1.h5ad" --clusters 7 --truth-column layer --no-umap \
    --out "$out/integ$n" --overwrite > "$out/integ$n.log" 2>&1
  grep -E "^\[.*ARI|Elapsed|Maximum resident|User time|System time" "$out/integ$n.log"
fi
