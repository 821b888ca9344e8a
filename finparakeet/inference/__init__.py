"""Inference: transcription with phrase boosting, long recordings, entity reports, and export for NeMo's own tools.

- ``inputs``: a NeMo manifest, a folder or Lhotse cuts, checked row by row (rejects with line and reason)
- ``decoding``: NeMo decoding configs with the boosting tree (global and per-utterance requests)
- ``longform``: long recordings — Lhotse windows stitched by word timestamps, or NeMo's local attention
- ``transcriber``: batched decoding through ``model.transcribe``, RTFx
- ``evaluation``: entity reports of the output (the scorer, no second decode) and the with/without-boosting table
- ``pipeline``: ``transcribe(cfg)``, what ``recipes/transcribe.py`` runs
- ``export``: a training run as a ``.nemo`` that ``ASRModel.restore_from`` loads with no FinParakeet code

NeMo is imported only where a model is loaded or decoded.
"""
