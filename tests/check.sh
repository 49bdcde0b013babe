#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs every check the project
# has — formatting, lints, the whole test suite (slow tests included), doctests, and the
# default scenario end to end. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export CACHEPLAN_SLOW_TESTS=1
export CARGO_TERM_COLOR=never

step() { printf '\n=== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

step "cargo test --release (unit, integration and slow tests)"
cargo test --release --all-targets

step "cargo test --profile checked (the same tests with debug assertions and overflow checks on)"
CACHEPLAN_SLOW_TESTS=0 cargo test --profile checked --all-targets

step "cargo test --release --doc"
cargo test --release --doc

step "smoke run of the embedded default scenario"
rm -rf target/smoke-run
cargo run --release --quiet -- run --out target/smoke-run --quiet
test -s target/smoke-run/summary.csv
test -s target/smoke-run/manifest.json
test -s target/smoke-run/report.html

step "report.html in headless Chromium (installs Debian's chromium when missing)"
bash tests/browser/check_report.sh target/smoke-run

step "notebooks executed headless against the smoke run (venv from notebooks/requirements.txt)"
bash notebooks/run_notebooks.sh target/smoke-run

step "all checks passed"
