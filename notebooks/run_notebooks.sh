#!/usr/bin/env bash
# Executes both notebooks headless against a run folder and fails when a cell fails.
# Creates (or reuses) a venv with notebooks/requirements.txt, then runs each notebook with
# nbclient; the executed copies (with their figures) go to OUT_DIR.
#
# Usage: notebooks/run_notebooks.sh RUN_DIR
# Environment: CACHEPLAN_OUTPUT_DIR  folder the sweep notebook searches (default: RUN_DIR's parent)
#              CACHEPLAN_SWEEP_CSV   a sweep.csv to read instead of aggregating run folders
#              CACHEPLAN_VENV        venv folder (default: notebooks/.venv)
#              CACHEPLAN_NOTEBOOK_OUT where executed notebooks go (default: RUN_DIR/notebooks)
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 RUN_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
run_dir=$(cd "$1" && pwd)
[ -f "$run_dir/summary.csv" ] || { echo "FAIL: $run_dir has no summary.csv" >&2; exit 1; }

venv=${CACHEPLAN_VENV:-$here/.venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

export CACHEPLAN_RUN_DIR="$run_dir"
export CACHEPLAN_OUTPUT_DIR="${CACHEPLAN_OUTPUT_DIR:-$(dirname "$run_dir")}"
out=${CACHEPLAN_NOTEBOOK_OUT:-$run_dir/notebooks}
mkdir -p "$out"

"$venv/bin/python" - "$out" "$here/explore_run.ipynb" "$here/explore_sweep.ipynb" <<'PY'
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

out = Path(sys.argv[1])
failed = False
for path in map(Path, sys.argv[2:]):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
        print(f"ok: {path.name}")
    except CellExecutionError as e:
        failed = True
        print(f"FAIL: {path.name}: a cell failed\n{e}", file=sys.stderr)
    nbformat.write(nb, out / path.name)
sys.exit(1 if failed else 0)
PY
echo "executed notebooks in $out"
