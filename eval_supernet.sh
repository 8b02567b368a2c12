#!/usr/bin/env bash
# Evaluate every arch of a competition JSON file with a trained supernet, in parallel, and
# write one submission (acc = top-1 accuracy as a fraction in [0, 1]).
#
#   bash eval_supernet.sh JSON [--ckpt DIR] [--out FILE] [other `hnas eval` options]
#   bash eval_supernet.sh JSON --launch "--ips=10.0.0.1,10.0.0.2 --nproc_per_node=8" [...]
#
# --ckpt defaults to checkpoint.dir of --config, else checkpoints/embedded (where
# `bash train_supernet.sh` writes the embedded default).
#
# One machine: `hnas eval JSON --workers N` runs N workers, each `hnas eval JSON --shard i/N`
# (0-based i), then merges their part files into --out (default checkpoints/submit_results.json),
# checking every key is present exactly once with the input's arch strings.
#   N = HNAS_WORKERS if set; else the visible GPUs (CUDA_VISIBLE_DEVICES, or `nvidia-smi -L`),
#       one GPU per worker; else `nproc` CPU processes.
#   CPU workers get OMP_NUM_THREADS = MKL_NUM_THREADS = cores / N (at least 1).
# Several machines: --launch ARGS runs the workers through `python -m paddle.distributed.launch
# ARGS`; each rank evaluates shard PADDLE_TRAINER_ID/PADDLE_TRAINERS_NUM (`--shard auto`). Run
# the same command on every machine with --out on a shared filesystem; the merge happens once
# all part files exist.
#
# Resuming: each shard appends to its own progress file next to --out, so re-running the same
# command after a crash or kill -9 skips finished archs (keep the same worker count).
# A rerun while workers of an earlier (killed) run of the script are still evaluating is refused
# before any log is touched (their progress files are locked).
# Worker logs: <out stem>_part{i}of{N}.log next to --out. The folder of --out must exist, and an
# existing --out that is not this evaluation's own result needs --force (the rule of every hnas
# writer).
# A worker that dies (e.g. kill -9) ends the script with one line naming its shard and the
# command that continues.
# Exit codes: 0 done; 2 bad input (nothing written) or hnas not installed; other = a worker's
# exit code (128 + signal for a killed one).
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
if [[ $# -ge 1 && ( $1 == -h || $1 == --help ) ]]; then usage; exit 0; fi
[[ $# -ge 1 && $1 != -* ]] || { usage >&2; exit 2; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-}"
if [[ -z $python ]]; then
    if [[ -x $here/.venv/bin/python ]]; then python="$here/.venv/bin/python"; else python=python3; fi
fi
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
if ! "$python" -c 'import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in ("paddle", "yaml")))' \
        2>/dev/null; then
    echo "eval_supernet.sh: hnas and its dependencies are not installed for $python: run 'make venv' in $here" \
         "(or pip install -e $here) first" >&2
    exit 2
fi
hnas() { "$python" -m hnas "$@"; }

json="$1"; shift
out="checkpoints/submit_results.json"
launch=""
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="$2"; args+=("$1" "$2"); shift 2 ;;
        --out=*) out="${1#--out=}"; args+=("$1"); shift ;;
        --launch) launch="$2"; shift 2 ;;
        --launch=*) launch="${1#--launch=}"; shift ;;
        --shard|--shard=*) echo "eval_supernet.sh: --shard is chosen by the script" >&2; exit 2 ;;
        *) args+=("$1"); shift ;;
    esac
done

# A rank started by paddle.distributed.launch (see --launch below): evaluate its shard only.
if [[ -n ${PADDLE_TRAINER_ID:-} && -n ${PADDLE_TRAINERS_NUM:-} ]]; then
    if [[ -z ${OMP_NUM_THREADS:-} && -n ${PADDLE_LOCAL_SIZE:-} ]]; then
        # CPU ranks of one machine share its cores (harmless for GPU ranks).
        threads=$(( $(nproc) / PADDLE_LOCAL_SIZE )); [[ $threads -ge 1 ]] || threads=1
        export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
    fi
    exec "$python" -m hnas eval "$json" --shard auto ${args[@]+"${args[@]}"}
fi

out_dir="$(dirname "$out")"
out_name="$(basename "$out")"
stem="${out_name%.*}"
suffix="${out_name#"$stem"}"

if [[ -n $launch ]]; then
    # Check the input, config and checkpoint once, before any rank starts or any file is written.
    hnas eval "$json" --dry-run ${args[@]+"${args[@]}"} >/dev/null
    # shellcheck disable=SC2086  # launch options are split on purpose
    "$python" -m paddle.distributed.launch $launch "$here/eval_supernet.sh" "$json" ${args[@]+"${args[@]}"}
    shopt -s nullglob
    parts=("$out_dir/${stem}"_part*of*"$suffix")
    if [[ ${#parts[@]} -eq 0 ]]; then
        echo "eval_supernet.sh: no part files ${stem}_part*of*$suffix in $out_dir" >&2; exit 3
    fi
    count="${parts[0]##*of}"; count="${count%"$suffix"}"
    if [[ ${#parts[@]} -lt $count ]]; then
        echo "eval_supernet.sh: ${#parts[@]} of $count part files present; other machines still running?" >&2
        echo "  when they finish: hnas merge $out_dir/${stem}_part*of$count$suffix --against $json --out $out" >&2
        exit 3
    fi
    hnas merge "${parts[@]}" --against "$json" --out "$out" --force  # --out was checked by the dry run
    exit 0
fi

# One machine: count workers and the devices they get.
devices=()
if [[ -n ${CUDA_VISIBLE_DEVICES:-} && ${CUDA_VISIBLE_DEVICES} != "-1" ]]; then
    IFS=',' read -r -a devices <<< "$CUDA_VISIBLE_DEVICES"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    mapfile -t devices < <(nvidia-smi -L | awk '/^GPU/ {sub(":", "", $2); print $2}')
fi
cores="$(nproc)"
if [[ -n ${HNAS_WORKERS:-} ]]; then
    workers="$HNAS_WORKERS"
elif [[ ${#devices[@]} -gt 0 ]]; then
    workers="${#devices[@]}"
else
    workers="$cores"
fi
[[ $workers =~ ^[1-9][0-9]*$ ]] || { echo "eval_supernet.sh: bad worker count '$workers'" >&2; exit 2; }
threads=$(( cores / workers )); [[ $threads -ge 1 ]] || threads=1
echo "eval_supernet.sh: $workers worker(s)" \
     "$( [[ ${#devices[@]} -gt 0 ]] && echo "on GPUs ${devices[*]}" || echo "on CPU, $threads thread(s) each")" >&2

# The worker pool, the lock check, resuming and the merge are `hnas eval --workers`.
if [[ ${#devices[@]} -gt 0 ]]; then export CUDA_VISIBLE_DEVICES="$(IFS=,; echo "${devices[*]}")"; fi
export HNAS_RERUN="bash $0 $json${args[*]+ ${args[*]}}"
exec "$python" -m hnas eval "$json" --workers "$workers" ${args[@]+"${args[@]}"}
