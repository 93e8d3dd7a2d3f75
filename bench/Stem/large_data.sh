#!/usr/bin/env bash
# STEM on large data (issue 17): 200,000 Xenium-like cells onto ~20,000 pseudo-spots (the tiled design: 160 x 125 bins of
# ~10 cells, each spot capturing 50-70 % of its bin's cells), end to end through `tessera map` in the automatic mode
# (above the full-batch limits: mini-batches, sparse top-k mapping in blocks, k-d tree cell graph, blocked evaluation).
# Usage: bench/Stem/large_data.sh OUTDIR [CELLS] [GRID] [EPOCHS]   (from the repository root)
# Wall time and peak memory of each step from /usr/bin/time -v (GNU time); 1 torch thread (OMP_NUM_THREADS=1).
set -euo pipefail
out=${1:?usage: large_data.sh OUTDIR [CELLS] [GRID] [EPOCHS]}
cells=${2:-200000}
grid=${3:-160x125}
epochs=${4:-400}
mkdir -p "$out"
# TESSERA_CLI: a built Tessera.Cli.dll to use instead of building this checkout's
if [[ -z ${TESSERA_CLI:-} ]]; then
  dotnet build src/Tessera.Cli -c Release 2>&1 | grep -E "rror\(s\)"
  TESSERA_CLI=$(pwd)/src/Tessera.Cli/bin/Release/net10.0/linux-x64/Tessera.Cli.dll
fi
cli="dotnet $TESSERA_CLI"
export OMP_NUM_THREADS=1
# the user's inputs: a Xenium-like section (truth in obs layer), and spots aggregated from its cells (truth: the cells'
# coordinates in sc obsm spatial_true, the spots' type proportions)
/usr/bin/time -v $cli simulate tissue --spots "$cells" --platform xenium --seed 0 -o "$out/cells.h5ad" > "$out/sim_tissue.log" 2>&1
/usr/bin/time -v $cli simulate pseudo-spots "$out/cells.h5ad" --grid "$grid" --cell-type-column layer --seed 0 \
  --out "$out/pseudo" --overwrite > "$out/sim_spots.log" 2>&1
grep -E "spots from" "$out/sim_spots.log"
# input -> outputs: read both h5ad, train, map, score against the truth, write h5ad/CSV/figures
/usr/bin/time -v $cli map --sc "$out/pseudo/sc.h5ad" --st "$out/pseudo/st.h5ad" --cell-type-column layer --epochs "$epochs" \
  --out "$out/map" --overwrite > "$out/map.log" 2>&1
grep -E "STEM: |STEM  |Elapsed|Maximum resident|User time|System time" "$out/map.log"
