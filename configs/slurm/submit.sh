#!/usr/bin/env bash
# Submits seqattr over a Slurm cluster: an array of N `seqattr attribute` tasks
# (seqattr-array.sbatch, one GPU each, shard I of N each), then one job, started only if
# every task succeeded (afterok), that merges the shards and writes a bigWig:
#   seqattr merge OUTDIR/shard_*.h5 --output OUTDIR/attributions.h5
#   seqattr export-bigwig OUTDIR/attributions.h5 --genome GENOME --output OUTDIR/attributions.bw
#
# Usage:
#   MODEL=model.pt PEAKS=peaks.narrowPeak GENOME=genome.fa OUTDIR=run1 \
#   [PRESET=configs/ig-riemann-fast.toml] [LENGTH=1000] [METHOD=integrated_gradients] \
#   [SEQATTR=/path/to/seqattr] [SEQATTR_ARGS="--batch-size 256"] \
#   [SBATCH_EXTRA="--partition=gpu --account=lab"] [SBATCH_MERGE_EXTRA="--mem=64G"] \
#   [MAX_PARALLEL=4] configs/slurm/submit.sh N
#
#   SBATCH_EXTRA        sbatch options for both jobs, after (so overriding) the defaults and
#                       the #SBATCH lines; split on spaces. On CPU-only nodes pass
#                       "--gres=none" (the array script asks for --gres=gpu:1), and lower
#                       --cpus-per-task/--mem to what the nodes have.
#   SBATCH_MERGE_EXTRA  sbatch options for the merge job only
#   MAX_PARALLEL        run at most this many array tasks at once (--array=0-(N-1)%MAX)
#
# Prints "ARRAY_JOB_ID MERGE_JOB_ID" on stdout. Logs go to OUTDIR/logs/. Paths are passed
# to the jobs as they are: make them absolute or relative to the directory you submit from
# (the jobs start there). OUTDIR must not hold shards of an earlier run (the merge would
# take them in): submit.sh refuses then.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage="usage: MODEL=... PEAKS=... GENOME=... OUTDIR=... $0 N   (see the comments in $0)"
tasks=${1:?$usage}
if ! [[ "$tasks" =~ ^[1-9][0-9]*$ ]]; then echo "submit.sh: N must be a positive integer" >&2; exit 2; fi
: "${MODEL:?$usage}" "${PEAKS:?$usage}" "${GENOME:?$usage}" "${OUTDIR:?$usage}"

old=()
for f in "$OUTDIR"/shard_*.h5 "$OUTDIR"/attributions.h5 "$OUTDIR"/attributions.bw; do
  if [[ -e "$f" ]]; then old+=("$f"); fi
done
if ((${#old[@]})); then
  echo "submit.sh: $OUTDIR already holds results of a run: ${old[*]}; remove them or choose another OUTDIR" >&2
  exit 1
fi
mkdir -p "$OUTDIR/logs"

export SEQATTR=${SEQATTR:-seqattr} MODEL PEAKS GENOME OUTDIR
export PRESET=${PRESET:-} LENGTH=${LENGTH:-} METHOD=${METHOD:-} SEQATTR_ARGS=${SEQATTR_ARGS:-}
read -r -a extra <<< "${SBATCH_EXTRA:-}"
read -r -a merge_extra <<< "${SBATCH_MERGE_EXTRA:-}"
range="0-$((tasks - 1))${MAX_PARALLEL:+%$MAX_PARALLEL}"

array_id=$(sbatch --parsable --array="$range" --job-name=seqattr \
  --output="$OUTDIR/logs/attribute-%A_%a.log" \
  "${extra[@]}" "$here/seqattr-array.sbatch")
array_id=${array_id%%;*}  # "id;cluster" on multi-cluster setups

# The merge job's script comes on stdin; its variables expand when it runs, from the
# environment exported above.
merge_id=$(sbatch --parsable --job-name=seqattr-merge --dependency="afterok:$array_id" \
  --kill-on-invalid-dep=yes --cpus-per-task=2 --mem=16G --time=02:00:00 \
  --output="$OUTDIR/logs/merge-%j.log" "${extra[@]}" "${merge_extra[@]}" <<'SCRIPT'
#!/bin/bash
set -euo pipefail
"$SEQATTR" merge "$OUTDIR"/shard_*.h5 --output "$OUTDIR/attributions.h5"
"$SEQATTR" export-bigwig "$OUTDIR/attributions.h5" --genome "$GENOME" \
  --output "$OUTDIR/attributions.bw"
SCRIPT
)
merge_id=${merge_id%%;*}

echo "submit.sh: array job $array_id ($tasks tasks), merge job $merge_id (after all succeed);" \
  "logs in $OUTDIR/logs" >&2
echo "$array_id $merge_id"
