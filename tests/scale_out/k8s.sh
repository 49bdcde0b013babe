#!/usr/bin/env bash
# Checks the Kubernetes example of workloads/scale-out/ without a cluster (none can run here):
#
# 1. Schema: workloads/scale-out/k8s-indexed-job.yaml passes kubernetes-validate (PyPI; it ships
#    the official OpenAPI-derived JSON schemas) in strict mode (unknown fields refused) for
#    Kubernetes 1.29 (backoffLimitPerIndex on by default) and 1.37; broken copies (a misspelt
#    field, a number where the schema wants a string, a container without its required name)
#    must fail, so this check can fail.
# 2. Consistency: an Indexed Job, CACHEPLAN_SHARD_COUNT = completions >= parallelism,
#    restartPolicy Never (backoffLimitPerIndex needs it), the header's merge line naming
#    part-*-of-<completions>.
# 3. The Job run by hand: each index's pod is the container's command with the container's
#    environment and JOB_COMPLETION_INDEX, its volumes mapped to local folders (the ConfigMap
#    holding workloads/cpq.toml as scenario.toml and tests/scale_out/grid.toml as grid.toml);
#    then the header's merge line; the merged folder must be byte-identical to the same sweep
#    run in one process.
#
# Usage: tests/scale_out/k8s.sh
# Environment: CACHEPLAN           cacheplan binary (default: cargo build --release, then
#                                  target/release/cacheplan)
#              CACHEPLAN_K8S_VENV  venv for kubernetes-validate (default: target/k8s-venv)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

job_yaml=workloads/scale-out/k8s-indexed-job.yaml
validator_version=1.37.0
k8s_versions=(1.29.0 1.37.0)

say() { printf 'k8s.sh: %s\n' "$*"; }
die() { printf 'k8s.sh: FAIL: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

venv=${CACHEPLAN_K8S_VENV:-$repo/target/k8s-venv}
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
    if ! python3 -m venv "$venv" 2>/dev/null; then
        say "python3 -m venv failed; installing Debian's python3-venv"
        rm -rf "$venv"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "kubernetes-validate==$validator_version"
fi
validate() { "$venv/bin/kubernetes-validate" --strict --no-warn "$@"; }

if [ -z "${CACHEPLAN:-}" ]; then
    cargo build --release --quiet
    CACHEPLAN=$repo/target/release/cacheplan
fi
[ -x "$CACHEPLAN" ] || die "no cacheplan binary at $CACHEPLAN"

work=$(mktemp -d "${TMPDIR:-/tmp}/cacheplan-k8s.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- 1. the schema ---------------------------------------------------------------------------------
for v in "${k8s_versions[@]}"; do
    validate --quiet -k "$v" "$job_yaml" || die "$job_yaml does not validate against Kubernetes $v"
done
say "ok: $job_yaml validates (strict) against the batch/v1 Job schema of Kubernetes ${k8s_versions[*]}"

broken() { # NAME SED-EXPRESSION: a copy with one edit, which must not validate
    local copy=$work/broken-$1.yaml
    sed "$2" "$job_yaml" >"$copy"
    ! cmp -s "$copy" "$job_yaml" || die "the edit '$2' changed nothing in $job_yaml"
    if validate --quiet -k "${k8s_versions[-1]}" "$copy" >"$work/broken.log" 2>&1; then
        die "a broken copy ($1) passes validation: the check cannot fail"
    fi
    say "ok: broken copy refused ($1): $(grep -m 1 -o 'version [0-9.]*: .*' "$work/broken.log" | cut -d' ' -f3- | cut -c1-120)"
}
broken misspelt-field 's/^  completions:/  completion:/'
broken int-for-string 's/value: "4"/value: 4/'
broken missing-container-name 's/^        - name: cacheplan$/        - stdin: false/'

# --- 2 and 3: consistency, and the Job run by hand ---------------------------------------------------
# The Python below reads the manifest (PyYAML, installed with kubernetes-validate) and prints
# the pods' commands as shell lines, making the volume folders.
"$venv/bin/python" - "$job_yaml" "$work" "$CACHEPLAN" >"$work/plan.sh" <<'PY'
import os, re, shlex, sys
import yaml

path, work, cacheplan = sys.argv[1:]
text = open(path).read()
job = yaml.safe_load(text)

def fail(msg):
    sys.exit(f"k8s.sh: FAIL: {path}: {msg}")

spec = job["spec"]
pod = spec["template"]["spec"]
if (job["apiVersion"], job["kind"]) != ("batch/v1", "Job"):
    fail("not a batch/v1 Job")
if spec.get("completionMode") != "Indexed":
    fail("completionMode is not Indexed (pods would get no JOB_COMPLETION_INDEX)")
completions = spec["completions"]
if not 1 <= spec.get("parallelism", 1) <= completions:
    fail("parallelism must be between 1 and completions")
if "backoffLimitPerIndex" in spec and pod.get("restartPolicy") != "Never":
    fail("backoffLimitPerIndex needs restartPolicy: Never")
[container] = pod["containers"]
env = {e["name"]: e["value"] for e in container.get("env", [])}
if env.get("CACHEPLAN_SHARD_COUNT") != str(completions):
    fail(f"CACHEPLAN_SHARD_COUNT is {env.get('CACHEPLAN_SHARD_COUNT')!r}, completions {completions}")
merges = re.findall(r"^#\s+(cacheplan merge .*)$", text, re.M)
if len(merges) != 1 or f"part-*-of-{completions} " not in merges[0]:
    fail(f"the header's merge line does not merge part-*-of-{completions}: {merges}")

# Volumes: each mount becomes a local folder; the ConfigMap gets the files named in the
# header's `kubectl create configmap ... --from-file=` line.
volumes = {v["name"]: v for v in pod["volumes"]}
mounts = {}
for m in container["volumeMounts"]:
    local = os.path.join(work, "volumes", m["name"])
    os.makedirs(local, exist_ok=True)
    mounts[m["mountPath"].rstrip("/")] = local
    if "configMap" in volumes[m["name"]]:
        line = re.search(r"kubectl create configmap (\S+)((?: --from-file=\S+)+)", text)
        if not line or line.group(1) != volumes[m["name"]]["configMap"]["name"]:
            fail("the header creates no ConfigMap of the name the volume uses")
        files = re.findall(r"--from-file=(\S+)", line.group(2))
        print(f"# configmap {local} {' '.join(files)}")

def local(arg):
    for mount, folder in mounts.items():
        if arg == mount or arg.startswith(mount + "/"):
            return folder + arg[len(mount):]
    return arg

command = container["command"]
if command[0] != "cacheplan":
    fail("the container's command does not start with cacheplan")
words = [cacheplan] + [local(a) for a in command[1:]]
assignments = [f"{k}={shlex.quote(v)}" for k, v in env.items()]
for index in range(completions):
    print("env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN",
          *assignments, f"JOB_COMPLETION_INDEX={index}", *map(shlex.quote, words))
merge = shlex.split(merges[0])
print("#merge", *[cacheplan] + [local(a) for a in merge[1:]])  # a shell line: the glob stays
# The same sweep in one process: the command without the pod's shard, --out elsewhere.
out = words.index("--out")
whole = words[:out + 1] + [os.path.join(work, "whole")] + words[out + 2:]
print("#whole", *map(shlex.quote, whole))
PY

configmap=$(grep '^# configmap ' "$work/plan.sh" | cut -d' ' -f3-)
read -r cm_dir cm_files <<<"$configmap"
for f in $cm_files; do
    case $f in
    scenario.toml) cp workloads/cpq.toml "$cm_dir/scenario.toml" ;;
    grid.toml) cp tests/scale_out/grid.toml "$cm_dir/grid.toml" ;;
    *) die "the ConfigMap holds $f; this test knows scenario.toml and grid.toml" ;;
    esac
done
pods=$(grep -c '^env ' "$work/plan.sh")
grep '^env ' "$work/plan.sh" | while read -r pod; do
    eval "$pod" || die "a pod failed: $pod"
done
say "ok: consistent (Indexed, CACHEPLAN_SHARD_COUNT = completions = $pods); $pods pods run by hand"
eval "$(sed -n 's/^#merge //p' "$work/plan.sh")" --quiet
merged=$(sed -n 's/^#merge .*--out \([^ ]*\).*/\1/p' "$work/plan.sh")
eval "$(sed -n 's/^#whole //p' "$work/plan.sh")"
if ! diff -r "$work/whole" "$merged" >"$work/diff.txt" 2>&1; then
    head -n 40 "$work/diff.txt" >&2
    die "the merged Indexed Job differs from the same sweep in one process"
fi
say "ok: the header's merge of the $pods pods' parts is byte-identical to one process ($(find "$merged" -type f | wc -l) files)"
