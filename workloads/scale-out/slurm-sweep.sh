#!/bin/bash
# cacheplan sweep as a Slurm job array: one array task per shard of the grid's cells.
#
#   sbatch --array=0-7 workloads/scale-out/slurm-sweep.sh
#   # when every task is done:
#   cacheplan merge "$OUT"/part-*-of-8 --out "$OUT"/merged
#
# cacheplan reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT itself:
# task k runs the cells i with i mod COUNT = k - MIN into "$OUT"/part-<k-MIN>-of-<COUNT>/.
# A failed task can be resubmitted alone (sbatch --array=3 ...): its finished cells are kept.
# OUT must be on a file system every node sees.
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

export RAYON_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}  # cells in parallel within the task
exec "$CACHEPLAN" sweep "$SCENARIO" --grid "$GRID" --out "$OUT" --quiet
