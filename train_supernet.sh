#!/usr/bin/env bash
# Train a weight-sharing supernet.
#
#   bash train_supernet.sh                                  # embedded default (MNIST digits, CPU, minutes),
#                                                           # written to checkpoints/embedded
#   CONFIG=configs/competition.yaml bash train_supernet.sh --data.root /data/imagenet-mini
#   CONFIG=configs/competition_prelu_flops.yaml ...   # the 3rd place's final "PReLU + FLOPs rank loss"
#   CONFIG=configs/competition_mish_zen.yaml ...      # its final "Mish + ZenScore rank loss"
#   # The 3rd place's own checked-in train_supernet.sh trains resnet48_mish with the FLOPs rank loss:
#   # neither final config exactly, but competition_prelu_flops.yaml's recipe with Mish after the additions:
#   CONFIG=configs/competition_prelu_flops.yaml bash train_supernet.sh --space.overrides '{outer_activation: mish}' ...
#   bash train_supernet.sh --epochs 1 --checkpoint.dir checkpoints/quick   # any --section.key value override
#   bash train_supernet.sh --resume                          # continue <checkpoint.dir>/last exactly
#
# With more than one visible GPU the run is started with `python -m paddle.distributed.launch`
# (one process per GPU, worker logs in $LAUNCH_LOG_DIR, default checkpoints/launch_logs); NPROC=N
# forces N processes (also on CPU, e.g. NPROC=2). Uses .venv/bin/python when present, else python3.
set -euo pipefail

cd "$(dirname "$0")"
CONFIG="${CONFIG:-configs/embedded.yaml}"
if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi

count_gpus() {
    if [[ -n "${CUDA_VISIBLE_DEVICES+set}" ]]; then
        local list="${CUDA_VISIBLE_DEVICES// /}"
        [[ -z "$list" || "$list" == "-1" ]] && { echo 0; return; }
        awk -F, '{print NF}' <<<"$list"
    elif command -v nvidia-smi >/dev/null 2>&1; then
        nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true
    else
        echo 0
    fi
}

NPROC="${NPROC:-$(count_gpus)}"
if [[ "$NPROC" -gt 1 ]]; then
    # The launcher runs `-m hnas` as the file hnas/__main__.py, so the repository must be importable.
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
    exec "$PYTHON" -m paddle.distributed.launch --nproc_per_node "$NPROC" \
        --log_dir "${LAUNCH_LOG_DIR:-checkpoints/launch_logs}" -m hnas train --config "$CONFIG" "$@"
fi
exec "$PYTHON" -m hnas train --config "$CONFIG" "$@"
