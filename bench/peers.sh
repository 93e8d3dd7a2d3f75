#!/usr/bin/env bash
# Tessera kernels next to their peers (Debian /usr/bin/python3: sklearn, faiss, umap-learn, leidenalg), same data,
# same run, one after the other; every task in its own process so peak memory is per task. Prints the table
# (bench/Peers/table.py) at the end; the raw ROW lines stay in $OUT/rows.log.
#   bench/peers.sh [--quick] [--out DIR]
# Threads: libtorch and OpenBLAS use all cores unless TORCH_THREADS / OMP_NUM_THREADS / OPENBLAS_NUM_THREADS are set.
set -uo pipefail
cd "$(dirname "$0")/.."
QUICK=0; OUT=/tmp/tessera-peers
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT="$2"; shift ;;
    *) echo "usage: bench/peers.sh [--quick] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
PY=/usr/bin/python3
mkdir -p "$OUT"; LOG="$OUT/rows.log"; : > "$LOG"
if [ $QUICK = 1 ]; then
  BLOBS="10000 30 10"; PCA="3000 500 50"; KNN="20000 64"; UMAP="3000 50"; LEIDEN="5000 50"; PATCHES=32
else
  BLOBS="50000 30 10"; PCA="10000 1000 50"; KNN="100000 64"; UMAP="10000 50"; LEIDEN="15000 50"; PATCHES=128
fi
echo "peers $(date -u '+%F %H:%M UTC') on $(hostname), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" | tee -a "$LOG"
echo "threads: TORCH_THREADS=${TORCH_THREADS:-default} OMP_NUM_THREADS=${OMP_NUM_THREADS:-default} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-default}; BLAS: $(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null)" | tee -a "$LOG"
dotnet build -c Release bench/ClusterBench 2>&1 | grep -E " error |rror\(s\)" | grep -v " 0 Error" || true
dotnet build -c Release bench/EmbedBench 2>&1 | grep -E " error |rror\(s\)" | grep -v " 0 Error" || true
dotnet build -c Release bench/StNet 2>&1 | grep -E " error |rror\(s\)" | grep -v " 0 Error" || true
CB="dotnet bench/ClusterBench/bin/Release/net10.0/linux-x64/ClusterBench.dll"
[ -f bench/ClusterBench/bin/Release/net10.0/linux-x64/ClusterBench.dll ] || CB="dotnet bench/ClusterBench/bin/Release/net10.0/ClusterBench.dll"
EB="dotnet bench/EmbedBench/bin/Release/net10.0/linux-x64/EmbedBench.dll"
[ -f bench/EmbedBench/bin/Release/net10.0/linux-x64/EmbedBench.dll ] || EB="dotnet bench/EmbedBench/bin/Release/net10.0/EmbedBench.dll"
SB="dotnet bench/StNet/bin/Release/net10.0/linux-x64/StNetBench.dll"
[ -f bench/StNet/bin/Release/net10.0/linux-x64/StNetBench.dll ] || SB="dotnet bench/StNet/bin/Release/net10.0/StNetBench.dll"

run() { echo "+ $*" >&2; "$@" 2>&1 | tee -a "$LOG" | grep -v '^ROW|' >&2 || true; }

read -r n d k <<<"$BLOBS"; B="$OUT/blobs_${n}x${d}.bin"
[ -f "$B" ] || $PY bench/cluster_sklearn.py make "$B" $n $d $k
for t in kmeans gmm-full gmm-tied gmm-diag gmm-spherical; do
  run $CB row $t "$B"; run $PY bench/cluster_sklearn.py row $t "$B"
done
read -r n g c <<<"$PCA"; P="$OUT/pca_${n}x${g}.bin"
[ -f "$P" ] || $PY bench/cluster_sklearn.py make-pca "$P" $n $g $c
run $CB row pca "$P"; run $PY bench/cluster_sklearn.py row pca "$P"

read -r n d <<<"$KNN"
run $EB row knn-exact $n $d "$OUT"; run $PY bench/embed_python.py row knn-exact "$OUT/emb_${n}x${d}.bin"
run $EB row knn-approx $n $d "$OUT"; run $PY bench/embed_python.py row knn-approx "$OUT/emb_${n}x${d}.bin"
# Tessera's other approximate search (NN-descent, the default before IVF): no separate peer, compare with the IVF row
run $EB row knn-nndescent $n $d "$OUT"
read -r n d <<<"$UMAP"
run $EB row umap $n $d "$OUT"; run $PY bench/embed_python.py row umap "$OUT/emb_${n}x${d}.bin"
read -r n d <<<"$LEIDEN"
run $EB row leiden $n $d "$OUT"; run $PY bench/embed_python.py row leiden "$OUT/emb_${n}x${d}.bin"

# method rows (s10-peers)
# ST-Net backbone features: the same torchvision DenseNet-121 weights and patches on both sides (bench/StNet/stnet_torch.py
# makes them), batch 32, no_grad, the same torch thread count; ResNet-18 compares time only (Tessera ships its own weights).
ST="$OUT/stnet"
$PY bench/StNet/stnet_torch.py make "$ST" $PATCHES
for t in stnet-densenet121 stnet-resnet18; do
  run $SB row $t "$ST" $PATCHES; run $PY bench/StNet/stnet_torch.py row $t "$ST" $PATCHES
done
# STEM epoch: StemBench trains on the MERFISH Bregma 0.26 pseudo-spots (needs ../shared/data) and exports those inputs;
# bench/Stem/crosscheck.py (the same encoder and losses in PyTorch, written from methods-reference §3) then trains as many
# epochs on the same files. One torch thread on both sides (STEM_THREADS); seconds per training epoch, wall and CPU.
dotnet build -c Release bench/Stem 2>&1 | grep -E " error |rror\(s\)" | grep -v " 0 Error" || true
SE=$([ $QUICK = 1 ] && echo 20 || echo 100); SX="$OUT/stem"; mkdir -p "$SX"
run env STEM_ROW=1 STEM_THREADS=1 STEM_EXPORT="$SX" dotnet bench/Stem/bin/Release/net10.0/linux-x64/StemBench.dll merfish $SE 0.26 0
run env STEM_ROW=1 STEM_THREADS=1 $PY bench/Stem/crosscheck.py "$SX" $SE 0
# Spotscape epoch: DLPFC 151673 prepared once by bench/Spotscape/prep_dlpfc.py (needs ../shared/data); Tessera's bench
# (SPOTSCAPE_ROW=1) and bench/Spotscape/spotscape_torch.py (the authors' single-slice step in plain PyTorch, written from
# methods-reference §4: dense expression, N x N similarity) train as many epochs on the same files, same thread count.
DL=../shared/data/dlpfc/151673
if [ -d "$DL" ]; then
  dotnet build -c Release bench/Spotscape 2>&1 | grep -E " error |rror\(s\)" | grep -v " 0 Error" || true
  SPX="$OUT/spotscape_151673"; [ -f "$SPX/meta.txt" ] || $PY bench/Spotscape/prep_dlpfc.py "$DL" "$SPX" > /dev/null
  SPE=$([ $QUICK = 1 ] && echo 10 || echo 100); SPT=${TORCH_THREADS:-2}
  run env SPOTSCAPE_ROW=1 dotnet bench/Spotscape/bin/Release/net10.0/linux-x64/Spotscape.Bench.dll "$SPX" 0 $SPE $SPT "$OUT/spotscape.f32"
  run $PY bench/Spotscape/spotscape_torch.py "$SPX" 0 $SPE $SPT row
else
  echo "ROW|spotscape-epoch|DLPFC 151673|Tessera||||skipped: $DL absent" | tee -a "$LOG"
fi

# CoSTA rows (s10-costa): the training step and the feature pass of the same ConvNet in Tessera and Debian PyTorch
# (bench/Costa/pytorch_step.py), and one whole epoch against the PyTorch + umap-learn + sklearn pipeline (pytorch_costa.py)
# on the same exported gene images (MOB rep11 simulation, needs ../shared/data). Threads: TORCH_THREADS or 2.
dotnet build -c Release bench/Costa 2>&1 | grep -E " error |rror\(s\)" | grep -v " 0 Error" || true
CO="dotnet bench/Costa/bin/Release/net10.0/linux-x64/Costa.dll"; CT=${TORCH_THREADS:-2}
if [ $QUICK = 1 ]; then CSTEPS=5; CFEAT=3000; CEPOCH=3000; else CSTEPS=20; CFEAT=10000; CEPOCH=10000; fi
run $CO step $CSTEPS $CT; run $PY bench/Costa/pytorch_step.py $CT $CSTEPS $CFEAT step
run $CO features $CFEAT $CT; run $PY bench/Costa/pytorch_step.py $CT $CSTEPS $CFEAT features
run $CO epoch $CEPOCH "$OUT/costa_$CEPOCH.f32" $CT; run $PY bench/Costa/pytorch_costa.py "$OUT/costa_$CEPOCH.f32" 1 30 nocenter 3 row $CT

echo
$PY bench/Peers/table.py "$LOG" | tee "$OUT/table.md"
