"""The run dir's artefacts: the contract that training writes and export, transcribe and the experiment read.

``<run_dir>/artifacts/run.json``::

    {"nemo": "artifacts/model.nemo",          # full model with adapters, from the best checkpoint (or null)
     "adapters": "artifacts/adapters.pt",     # adapter weights only, NeMo save_adapters format; null for adapter=none
     "best_checkpoint": "checkpoints/best-step=40.ckpt",
     "base": {"pretrained_name": ..., "nemo_path": ..., "model_config": "tiny_tdt"},  # config: null when loaded
     "adapter": {...the adapter config...},
     "best_val_entity_wer": 0.93, "best_val_wer": 0.97,   # of the validation that chose the best checkpoint
     "monitor": "val_entity_wer", "global_step": 120, "trainable_params": ..., "total_params": ...}

Paths are relative to the run dir. ``model.nemo``'s config names NeMo's own classes, so NeMo's stock scripts restore
it without FinParakeet installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

__all__ = ["ARTIFACTS", "RUN_JSON", "MODEL_NEMO", "ADAPTERS", "read_run", "resolve_run", "write_run_json"]

ARTIFACTS = "artifacts"
RUN_JSON = "run.json"
MODEL_NEMO = "model.nemo"
ADAPTERS = "adapters.pt"


def _rel(path: Optional[Path], run_dir: Path) -> Optional[str]:
    if path is None:
        return None
    path = Path(path).resolve()
    try:
        return str(path.relative_to(run_dir.resolve()))
    except ValueError:
        return str(path)


def write_run_json(run_dir: str | Path, *, nemo: Optional[Path], adapters: Optional[Path],
                   best_checkpoint: Optional[Path], base: dict[str, Any], adapter: dict[str, Any],
                   **fields: Any) -> Path:
    """Write ``<run_dir>/artifacts/run.json`` (paths stored relative to the run dir)."""
    run_dir = Path(run_dir)
    out = run_dir / ARTIFACTS / RUN_JSON
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"nemo": _rel(nemo, run_dir), "adapters": _rel(adapters, run_dir),
           "best_checkpoint": _rel(best_checkpoint, run_dir), "base": base, "adapter": adapter, **fields}
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """``run.json`` as written (relative paths)."""
    return json.loads((Path(run_dir) / ARTIFACTS / RUN_JSON).read_text(encoding="utf-8"))


def resolve_run(run_dir: str | Path) -> dict[str, Any]:
    """``run.json`` with ``nemo``, ``adapters`` and ``best_checkpoint`` as absolute paths (None stays None)."""
    run_dir = Path(run_dir).resolve()
    doc = read_run(run_dir)
    for key in ("nemo", "adapters", "best_checkpoint"):
        if doc.get(key):
            doc[key] = str(run_dir / doc[key])
    return doc
