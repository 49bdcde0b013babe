#!/usr/bin/env bash
# Runs the Slurm example of workloads/scale-out/ on a real Slurm: installs Debian's Slurm and
# MUNGE when missing (apt-get, as root or with sudo), starts a private single-node cluster on
# this machine, submits workloads/scale-out/slurm-sweep.sh as a job array (sbatch --array),
# waits for it, merges the part folders with `cacheplan merge`, and checks the merged folder is
# byte-identical to the same sweep run in one process. The grid is tests/scale_out/grid.toml
# (8 cells, seconds of work) over workloads/cpq.toml.
#
# The example is also resubmitted for one task alone (SHARD_COUNT, as its header says), which
# must rebuild that task's part folder.
#
# The cluster is the script's own: munged, slurmctld and slurmd run from a temporary folder
# (their own MUNGE key and socket, slurm.conf, state, spool, logs and pid files) inside a new
# network namespace whose only interface is loopback (as root; elsewhere on this machine's
# network, slurmd bound to 127.0.0.1). It uses no system daemon and stops nothing it did not
# start: on exit (success, failure or interrupt) it cancels its job, stops its three daemons by
# process id, then checks that no process of its cluster is left (each carries the marker
# CACHEPLAN_SLURM_TEST=<its folder> in its environment) and fails if one is.
#
# Usage: tests/scale_out/slurm.sh
# Environment: CACHEPLAN            cacheplan binary (default: cargo build --release, then
#                                   target/release/cacheplan)
#              CACHEPLAN_KEEP_SLURM=1  keep the temporary folder (logs, parts) for a post-mortem
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

shards=4
scenario=workloads/cpq.toml
grid=tests/scale_out/grid.toml
timeout_s=600

say() { printf 'slurm.sh: %s\n' "$*"; }
die() { printf 'slurm.sh: FAIL: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Slurm and MUNGE ------------------------------------------------------------------------
missing=""
for c in sbatch squeue scontrol sinfo scancel slurmctld slurmd munged mungekey munge ip unshare; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
    say "missing:$missing; installing Debian's slurm-wlm, munge, iproute2"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge iproute2 util-linux >/dev/null
fi

if [ -z "${CACHEPLAN:-}" ]; then
    cargo build --release --quiet
    CACHEPLAN=$repo/target/release/cacheplan
fi
[ -x "$CACHEPLAN" ] || die "no cacheplan binary at $CACHEPLAN"
export CACHEPLAN

# --- a private network namespace ----------------------------------------------------------------
# slurmctld listens on every address of its port (CommunicationParameters=NoInAddrAny does not
# apply to it), so the script re-runs itself in a new network namespace whose only interface is
# its own loopback: nothing outside can reach the cluster, and its ports collide with nothing.
# Where no namespace can be made (not root), the cluster runs on this machine's network:
# slurmd then binds 127.0.0.1 only, slurmctld a free port on every address, answering only
# requests signed with this run's own MUNGE key. (A user namespace is no way out: slurmctld
# must drop supplementary groups, which setgroups refuses there.)
if [ "${CACHEPLAN_SLURM_NETNS:-}" = "" ]; then
    if unshare --net true 2>/dev/null; then
        exec unshare --net env CACHEPLAN_SLURM_NETNS=private bash "$0" "$@"
    fi
    export CACHEPLAN_SLURM_NETNS=host
    say "no network namespace can be made here (not root): the cluster uses this machine's" \
        "network, slurmctld on a free port of every address (answering this run's MUNGE key only)"
fi
if [ "$CACHEPLAN_SLURM_NETNS" = private ]; then
    # Slurm resolves addresses with AI_ADDRCONFIG, for which glibc counts every IPv4 address but
    # 127.0.0.1: a second loopback address makes "127.0.0.1" resolvable in the namespace.
    ip link set lo up
    ip addr add 127.0.0.2/8 dev lo
fi

# --- the private cluster's folder, and cleanup ---------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/cacheplan-slurm.XXXXXX")
chmod 755 "$work"            # munged wants every folder above its socket searchable by all
mkdir -m 700 "$work/munge"   # the key, seed and log: private
mkdir -m 755 "$work/run"     # the socket and pid files
mkdir "$work/state" "$work/spool" "$work/log" "$work/out"
conf=$work/slurm.conf
socket=$work/run/munge.socket
marker="CACHEPLAN_SLURM_TEST=$work"
# A Slurm command for this cluster. Daemons are started with `env` directly instead, so that $!
# is the daemon's own process id.
slurm() { env "$marker" SLURM_CONF="$conf" "$@"; }

munged_pid="" ctld_pid="" slurmd_pid="" job=""

# Process ids of every process carrying this run's marker (daemons, job steps, cacheplan).
ours() {
    grep -lxzF "$marker" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 || true
}

stop_pid() {
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? i left
    set +e
    trap - EXIT INT TERM
    if [ -n "$job" ] && [ -n "$ctld_pid" ]; then
        slurm scancel "$job" 2>/dev/null
        for i in $(seq 1 100); do
            [ -z "$(slurm squeue -h -j "$job" 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    stop_pid "$slurmd_pid"
    stop_pid "$ctld_pid"
    stop_pid "$munged_pid"
    wait 2>/dev/null
    # Job steps (slurmstepd and what it ran) of this cluster that outlived slurmd.
    left=$(ours)
    if [ -n "$left" ]; then
        echo "slurm.sh: stopping leftover processes of this cluster:" >&2
        ps -o pid=,ppid=,args= -p "$(echo $left | tr ' ' ,)" >&2
        kill -KILL $left 2>/dev/null
        sleep 0.5
        left=$(ours)
    fi
    if [ -n "$left" ]; then
        echo "slurm.sh: FAIL: processes of this cluster still running: $left" >&2
        rc=1
    fi
    if [ "$rc" != 0 ]; then
        for f in "$work"/log/*.log "$work"/munge/munged.log; do
            [ -f "$f" ] || continue
            echo "----- $f (last 30 lines)" >&2
            tail -n 30 "$f" >&2
        done
    fi
    if [ "${CACHEPLAN_KEEP_SLURM:-0}" = 1 ]; then
        echo "slurm.sh: kept $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- MUNGE ------------------------------------------------------------------------------------
mungekey --create --keyfile="$work/munge/munge.key"
env "$marker" munged --foreground --socket="$socket" --key-file="$work/munge/munge.key" \
    --pid-file="$work/run/munged.pid" --log-file="$work/munge/munged.log" \
    --seed-file="$work/munge/munged.seed" >"$work/log/munged.out" 2>&1 &
munged_pid=$!
for i in $(seq 1 50); do
    [ -S "$socket" ] && break
    sleep 0.1
done
munge -n -S "$socket" | unmunge -S "$socket" >/dev/null || die "munged does not answer on $socket"

# --- slurm.conf -------------------------------------------------------------------------------
# Two free loopback ports (a small race with other programs, reported by slurmctld if lost).
read -r ctld_port slurmd_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
user=$(id -un)
cpus=$(nproc)
cat >"$conf" <<EOF
# A private single-node cluster for tests/scale_out/slurm.sh: loopback only, everything in $work.
ClusterName=cacheplan-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoInAddrAny
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
SlurmUser=$user
SlurmdUser=$user
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=3600
NodeName=cacheplan-node NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$cpus RealMemory=1024 State=UNKNOWN
PartitionName=test Nodes=cacheplan-node Default=YES MaxTime=INFINITE State=UP
EOF

# --- slurmctld and slurmd ---------------------------------------------------------------------
env "$marker" SLURM_CONF="$conf" slurmctld -D -c >"$work/log/slurmctld.out" 2>&1 &
ctld_pid=$!
for i in $(seq 1 100); do
    slurm scontrol ping 2>/dev/null | grep -q 'is UP' && break
    kill -0 "$ctld_pid" 2>/dev/null || die "slurmctld exited"
    sleep 0.2
done
slurm scontrol ping | grep -q 'is UP' || die "slurmctld does not answer"
env "$marker" SLURM_CONF="$conf" slurmd -D -N cacheplan-node >"$work/log/slurmd.out" 2>&1 &
slurmd_pid=$!
state=""
for i in $(seq 1 150); do
    state=$(slurm sinfo -h -n cacheplan-node -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    kill -0 "$slurmd_pid" 2>/dev/null || die "slurmd exited"
    sleep 0.2
done
[ "$state" = idle ] || die "the node is '$state', not idle"
# Loopback only: the network namespace has no interface but loopback, or (on this machine's
# network) slurmd's listening socket is bound to 127.0.0.1; slurmctld's then is on every address.
python3 - "$ctld_port" "$slurmd_port" <<'PY' || die "a daemon of this cluster listens beyond loopback"
import sys
ctld_port, slurmd_port = map(int, sys.argv[1:])
ports = {ctld_port, slurmd_port}
seen, bad = set(), []
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        lines = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        local, state = line.split()[1], line.split()[3]
        addr, port = local.split(":")
        if state != "0A" or int(port, 16) not in ports:
            continue
        seen.add(int(port, 16))
        if addr != "0100007F" and int(port, 16) == slurmd_port:
            bad.append(f"port {int(port, 16)} bound to {addr} ({table})")
interfaces = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
if interfaces == ["lo"]:
    bad = []  # a namespace with nothing but loopback: every address is a loopback address
if bad or seen != ports:
    print("listening:", sorted(seen), "expected:", sorted(ports), *bad, sep="\n  ")
    sys.exit(1)
PY
say "$(slurm sbatch --version), $(munged --version 2>&1 | head -n 1)"
say "cluster up: slurmctld on port $ctld_port, slurmd on 127.0.0.1:$slurmd_port, $cpus CPUs, network: $CACHEPLAN_SLURM_NETNS"

# --- the sweep in one process ------------------------------------------------------------------
"$CACHEPLAN" sweep "$scenario" --grid "$grid" --out "$work/whole" --quiet
cells=$(find "$work/whole/cells" -name '*.json' | wc -l)
[ "$cells" -ge "$shards" ] || die "the one-process sweep has $cells cells, fewer than $shards shards"

# --- the example as a job array ------------------------------------------------------------------
# The example's own resource lines ask for 8 CPUs and 8 GB; the command line overrides them to
# fit this one small node, as a user would on a small partition. Submitted from the repository
# root, as its header says, with SCENARIO, GRID and OUT in the environment (sbatch exports it).
out=$work/out/sweep
submit() { # ARRAY [VAR=VALUE...]: submits the example, prints the job id
    local array=$1
    shift
    (cd "$repo" && env SCENARIO="$scenario" GRID="$grid" OUT="$out" "$@" \
        "$marker" SLURM_CONF="$conf" sbatch --parsable --array="$array" --cpus-per-task=1 \
        --mem=256M --time=00:10:00 --output="$work/log/task-%A_%a.log" \
        workloads/scale-out/slurm-sweep.sh) | cut -d';' -f1
}
wait_job() { # JOB N: waits for the array job's N tasks, fails unless all completed with code 0
    local job=$1 n=$2 deadline=$((SECONDS + timeout_s)) states tasks ok
    while :; do
        states=$(slurm scontrol -o show job "$job" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c)
        grep -qE 'PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|RESIZING|SUSPENDED' \
            <<<"$states" || break
        [ "$SECONDS" -lt "$deadline" ] || die "job $job not finished after ${timeout_s}s: $states"
        sleep 1
    done
    tasks=$(slurm scontrol -o show job "$job")
    ok=$(grep -c 'JobState=COMPLETED .*ExitCode=0:0' <<<"$tasks" || true)
    if [ "$ok" != "$n" ]; then
        grep -oE 'ArrayTaskId=[^ ]+|JobState=[^ ]+|ExitCode=[^ ]+' <<<"$tasks" >&2 || true
        cat "$work"/log/task-"$job"_*.log >&2 || true
        die "$ok of $n tasks of job $job completed with exit code 0"
    fi
}

job=$(submit "0-$((shards - 1))")
say "submitted job array $job (tasks 0-$((shards - 1)))"
wait_job "$job" "$shards"
for k in $(seq 0 $((shards - 1))); do
    [ -f "$out/part-$k-of-$shards/part.json" ] || die "task $k wrote no part folder part-$k-of-$shards"
done
say "all $shards array tasks completed (exit code 0), one part folder each"

# A failed task resubmitted alone, as the example's header says: its part folder is rebuilt.
rm -rf "$out/part-1-of-$shards"
job=$(submit 1 SHARD_COUNT="$shards")
wait_job "$job" 1
[ -f "$out/part-1-of-$shards/part.json" ] || die "the resubmitted task 1 wrote no part-1-of-$shards"
extra=$(find "$out" -mindepth 1 -maxdepth 1 ! -name "part-*-of-$shards" | head -n 3)
[ -z "$extra" ] || die "unexpected entries in $out after the resubmission: $extra"
say "task 1 resubmitted alone (job $job) rebuilt part-1-of-$shards"

# --- merge and compare -------------------------------------------------------------------------
"$CACHEPLAN" merge "$out"/part-*-of-"$shards" --out "$work/merged" --quiet
if ! diff -r "$work/whole" "$work/merged" >"$work/log/diff.txt" 2>&1; then
    head -n 40 "$work/log/diff.txt" >&2
    die "the merged array job differs from the same sweep in one process"
fi
files=$(find "$work/merged" -type f | wc -l)
say "ok: merge of $shards array tasks is byte-identical to one process ($files files, $cells cells, ${SECONDS}s)"
