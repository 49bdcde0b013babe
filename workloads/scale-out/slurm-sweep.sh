#!/bin/bash
# cacheplan sweep as a Slurm job array: one array task per shard of the grid's cells.
# Submit from the repository root (the job runs in the submit directory, where the relative
# paths below are taken):
#
#   sbatch --array=0-7 workloads/scale-out/slurm-sweep.sh
#   # when every task is done:
#   cacheplan merge output/sweep/part-*-of-8 --out output/sweep/merged
#
# cacheplan reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT itself:
# task k runs the cells i with i mod COUNT = k - MIN into "$OUT"/part-<k-MIN>-of-<COUNT>/.
# The array is one range (0-7, or 1-8), no step or list.
# A failed task can be resubmitted alone; say how many shards the sweep has, since Slurm then
# counts one task: SHARD_COUNT=8 sbatch --array=3 workloads/scale-out/slurm-sweep.sh
# (array index = shard index; its part folder keeps the cells it finished).
# Options given to sbatch override the #SBATCH lines below (e.g. --cpus-per-task=2 --mem=2G on
# a small partition). OUT must be on a file system every node sees.
# Tested on a real single-node Slurm by tests/scale_out/slurm.sh.
#
#SBATCH --job-name=cacheplan-sweep
#SBATCH --cpus-per-task=8
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=cacheplan-sweep-%A_%a.log

set -euo pipefail

CACHEPLAN=${CACHEPLAN:-cacheplan}                  # the binary (cargo build --release)
SCENARIO=${SCENARIO:-workloads/cpq.toml}
GRID=${GRID:-workloads/scale-out/grid.toml}
OUT=${OUT:-output/sweep}

shard=()                                           # from Slurm's variables
if [ -n "${SHARD_COUNT:-}" ]; then                 # a resubmitted task
    shard=(--shard-index "$SLURM_ARRAY_TASK_ID" --shard-count "$SHARD_COUNT")
fi

export RAYON_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}  # cells in parallel within the task
exec "$CACHEPLAN" sweep "$SCENARIO" --grid "$GRID" --out "$OUT" --quiet ${shard[@]+"${shard[@]}"}
