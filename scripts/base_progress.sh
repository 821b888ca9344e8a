#!/usr/bin/env bash
# Record the general base's progress in the repository: its learning curve (and those of the runs that change one
# lever) into results/general_base.json, then RESULTS.md. Run it whenever a sitting of training ends.
set -euo pipefail
cd "$(dirname "$0")/.."
T=scripts/train_general_base.sh
CTC="model=tiny_tdt_ctc_5m"
NODROP="model.encoder.dropout=0 model.encoder.dropout_pre_encoder=0 model.encoder.dropout_att=0 model.joint.jointnet.dropout=0 model.spec_augment.freq_masks=0 model.spec_augment.time_masks=0"
LEVERS="{
    ctc_head: {run: runs/general_base_ctc, command: \"$T $CTC name=general_base_ctc\"},
    ctc_head_lr5e-4: {run: runs/general_base_ctc_lr5e-4, command: \"$T $CTC name=general_base_ctc_lr5e-4 model.optim.lr=5.0e-4 model.optim.sched.warmup_steps=1000\",
      note: \"Bucketed batches (data.use_bucketing=true) from step 1,500 on. Its points at steps 1,000 and 1,500 were scored on one dev batch (the resume bug fixed in c81c93d); the full validation at step 1,500 read 92.6% / 91.6% (CTC).\"},
    ctc_head_lr1.5e-3: {run: runs/general_base_ctc_lr1.5e-3, command: \"$T $CTC name=general_base_ctc_lr1.5e-3 model.optim.lr=1.5e-3 model.optim.sched.warmup_steps=1500 data.use_bucketing=true\"},
    ctc_head_lr1.5e-3_nodrop: {run: runs/general_base_ctc_lr1.5e-3_nodrop, command: \"$T $CTC name=general_base_ctc_lr1.5e-3_nodrop model.optim.lr=1.5e-3 model.optim.sched.warmup_steps=1500 data.use_bucketing=true $NODROP\",
      note: \"No dropout, no SpecAugment: a model this far from fitting its training data is only slowed by regularisation (5 points ahead of the same run with them at step 1,000). Stopped at step 3,500 (69.8%): no better per step than 64 subsampling channels, 1.5x dearer a step.\"}
  }"
# Hydra's override grammar wants the dict on one line
RUN=general_base_ctc_lr1.5e-3_nodrop_sub64
BASE="$T name=$RUN trainer.devices=2 trainer.strategy=ddp data.batch_duration=30"
NOTE="Steps 1-1,750 ran as one process on two threads (60 s batches), later steps as two processes of 30 s batches (the command above); up to step 4,500 the CPU hours of a two-process sitting counted the first process only (fixed in b2c3a7d), about 0.4 h short (the second process had used 23.5 CPU-minutes more at step 4,500, read from ps), so every later figure is short by that much too. The run was started as \`$T $CTC name=$RUN model.optim.lr=1.5e-3 model.optim.sched.warmup_steps=1500 data.use_bucketing=true $NODROP model.encoder.subsampling_conv_channels=64 trainer.max_steps=20000 trainer.devices=2 trainer.strategy=ddp data.batch_duration=30 num_threads=1\`; since 60073ed those values are the defaults of conf/experiment/general_base.yaml, so the command above composes the same config. The levers below ran with that file as of dc14818 (TDT only, lr 2e-3, 300 warm-up steps, 12,000 steps, dropout and SpecAugment on, 176 subsampling channels), which their commands change. artifacts/model.nemo is the checkpoint with the lowest dev WER (checkpoint.monitor=val_wer)."
exec .venv/bin/python recipes/write_results.py base_run=runs/$RUN "base_command='$BASE'" "base_note='$NOTE'" "base_ablations=$(echo $LEVERS)" "$@"
