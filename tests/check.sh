#!/usr/bin/env bash
# The README's test command: installs what the tests need, then runs every check the project
# has — formatting, lints, the whole test suite (slow tests included), the test suite again on
# a copy with no ../shared beside it, doctests, the default scenario end to end, and the
# scale-out examples (a real Slurm array job, the Kubernetes Job schema). Exits non-zero on
# the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export CACHEPLAN_SLOW_TESTS=1
export CARGO_TERM_COLOR=never

step() { printf '\n=== %s\n' "$*"; }

step "redis-server for the live tests (installs Debian's redis-server when missing)"
# The live tests (tests/it/live_*.rs) start private instances on loopback ports; in CI
# (CI=true) a missing redis-server fails them, elsewhere they print "skipped: redis-server
# absent". Debian 12's package is Redis 7.0.x, the version the model follows.
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
    fi
fi
redis-server --version
# tests/it/live_tls.rs makes a throwaway CA and server certificate with the openssl command.
if ! command -v openssl >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl
    fi
fi
openssl version

step "cargo fmt --check"
cargo fmt --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

step "cargo test --release (unit, integration and slow tests)"
cargo test --release --all-targets

step "cargo test --profile checked (the same tests with debug assertions and overflow checks on)"
CACHEPLAN_SLOW_TESTS=0 cargo test --profile checked --all-targets

step "cargo test --release on a copy with no ../shared beside it (what any clone sees)"
# The repository's files (tracked, plus untracked ones not ignored) go to a fresh temporary
# folder whose parent has no shared/. There every test must pass from tests/data alone, and the
# ones that need a file only in ../shared must say "skipped: ../shared absent".
# Slow tests are left out here: none of them reads ../shared, and the step above ran them on
# the same tests/data, so they would only add minutes.
# Build in target/clone-check, kept between runs so dependencies compile once. The copy lives
# at a new path each run and its tests bake that path in (env!("CARGO_MANIFEST_DIR")), so the
# files are extracted with fresh mtimes (tar -m): cargo then always rebuilds cacheplan itself
# and never reuses a test binary that points at an earlier, deleted copy.
clone_target="$PWD/target/clone-check"
clone_tmp=$(mktemp -d)
trap 'rm -rf "$clone_tmp"' EXIT
mkdir "$clone_tmp/repo"
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -m -xf - -C "$clone_tmp/repo"
clone_log="$clone_tmp/test.log"
if ! (cd "$clone_tmp/repo" &&
    env -u CACHEPLAN_SLOW_TESTS CARGO_TARGET_DIR="$clone_target" \
        cargo test --release --all-targets) >"$clone_log" 2>&1; then
    cat "$clone_log"
    echo "check.sh: tests fail on a copy without ../shared (output above)" >&2
    exit 1
fi
if ! grep -F 'skipped: ../shared absent' "$clone_log"; then
    cat "$clone_log"
    echo "check.sh: no test said 'skipped: ../shared absent' on a copy without ../shared" >&2
    exit 1
fi
grep '^test result:' "$clone_log"
if grep '^test result:' "$clone_log" | grep -qv ' 0 failed;'; then
    echo "check.sh: a test binary reported failures on the copy without ../shared" >&2
    exit 1
fi
rm -rf "$clone_tmp"
trap - EXIT

step "cargo test --release --doc"
cargo test --release --doc

step "smoke run of the embedded default scenario"
rm -rf target/smoke-run
cargo run --release --quiet -- run --out target/smoke-run --quiet
test -s target/smoke-run/summary.csv
test -s target/smoke-run/manifest.json
test -s target/smoke-run/report.html

step "scale-out examples: the Slurm array on a real single-node Slurm, the Kubernetes Job"
# workloads/scale-out/: slurm.sh installs Debian's slurm-wlm and munge when missing, runs the
# array job on a private cluster it starts and stops, and compares the merge with one process;
# k8s.sh validates the Indexed Job against the Job schema and runs its pods by hand.
bash tests/scale_out/slurm.sh
bash tests/scale_out/k8s.sh

step "report.html in headless Chromium (installs Debian's chromium when missing)"
bash tests/browser/check_report.sh target/smoke-run

step "notebooks executed headless against the smoke run (venv from notebooks/requirements.txt)"
bash notebooks/run_notebooks.sh target/smoke-run

step "all checks passed"
