#!/usr/bin/env bash
# Record the general base's progress in the repository: its learning curve (and those of the runs that change one
# lever) into results/general_base.json, then RESULTS.md. Run it whenever a sitting of training ends.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python recipes/write_results.py base_run=runs/general_base \
  'base_ablations={ctc_head: {run: runs/general_base_ctc, command: "scripts/train_general_base.sh model=tiny_tdt_ctc_5m name=general_base_ctc"}, ctc_head_lr5e-4: {run: runs/general_base_ctc_lr5e-4, command: "scripts/train_general_base.sh model=tiny_tdt_ctc_5m name=general_base_ctc_lr5e-4 model.optim.lr=5.0e-4 model.optim.sched.warmup_steps=1000"}}' "$@"
