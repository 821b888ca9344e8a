"""The data layer: Lhotse CutSets (``*.jsonl.gz``) are the project's manifests.

- ``nemo_manifest``: NeMo JSON rows <-> Lhotse cuts, losing nothing
- ``manifests``: read/write either format (``load_manifest``, ``save_cuts``, ``detect_format``)
- ``folder``, ``earnings21``, ``importers``: importers (audio + ``.txt``; Rev's Earnings-21; one dispatcher)
- ``validate``, ``rejects``: row checks, clean 16 kHz mono cuts, typed rejects; ``filter_valid`` for training loops

No NeMo import here (it costs seconds and ~0.8 GB).
"""
