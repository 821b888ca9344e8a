"""The data layer: Lhotse CutSets (``*.jsonl.gz``) are the project's manifests.

- ``rows``: the one reader of JSON-lines manifests (``read_rows``) and the field checks every reader of NeMo rows
  shares; ``rejects``: ``Reject``, the one record of an input row that cannot be used (file, line, kind, reason)
- ``nemo_manifest``: NeMo JSON rows <-> Lhotse cuts, losing nothing
- ``manifests``: read/write either format (``load_manifest``, ``load_cuts``, ``save_cuts``, ``detect_format``)
- ``references``: a cut's reference text with its entity spans (what the scorer and the validation hook read)
- ``folder``, ``earnings21``, ``importers``: importers (audio + ``.txt``; Rev's Earnings-21; one dispatcher)
- ``validate``: row checks, clean 16 kHz mono cuts, rejects; ``filter_valid`` for training loops

No NeMo import here (it costs seconds and ~0.8 GB).
"""
