#!/usr/bin/env bash
# Train (or resume) the general base model: hours of CPU, one core, checkpoints every 250 steps.
# Rerun the same command after an interruption: it continues from runs/general_base/checkpoints/last.ckpt.
# Progress: runs/general_base/metrics.json (dev WER, time/cpu_hours per validation); scripts/base_progress.sh records
# the learning curve in results/general_base.json and RESULTS.md. Extra arguments are Hydra overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
exec .venv/bin/python recipes/train.py +experiment=general_base "$@"
