"""Export a training run as a ``.nemo`` that NeMo's own tooling serves unchanged.

Reads the run directory's contract (``<run_dir>/artifacts/run.json``, written by ``recipes/train.py``): ``nemo`` —
the full model with its adapters — or else ``base`` plus ``adapters`` (adapter-only weights in NeMo's
``save_adapters`` format). The exported file:

- has the adapters in its config and weights, *enabled* (``adapters_enabled=false`` exports them switched off);
  ``ASRModel.restore_from`` rebuilds and enables them with no FinParakeet code: the encoder is NeMo's
  ``ConformerEncoderAdapter`` and the adapters NeMo's own modules;
- decodes with ``greedy_batch`` and no boosting tree (a key-phrase file path would not exist where it is served;
  boost at serving time with NeMo's ``rnnt_decoding.greedy.boosting_tree.*`` keys or ``recipes/transcribe.py``);
- carries a ``validation_ds`` section, because NeMo's ``transcribe()`` from audio files reads
  ``cfg.validation_ds.use_start_end_token`` (``transcribe_speech.py`` fails on a model without one).

Adapters are not merged into the weights: NeMo's ``LinearAdapter`` is non-linear (norm, activation) and cannot be
folded into the layer it follows. A switch of ``set_enabled_adapters`` gives back the base model exactly.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf, open_dict

from finparakeet.inference.decoding import apply_decoding, boosting_keys, decoding_config
from finparakeet.rundir import ARTIFACTS, RUN_JSON, resolve_run

logger = logging.getLogger(__name__)

class RunDirError(ValueError):
    """The run directory does not hold what export needs."""


@dataclass
class ExportResult:
    output: Path
    source: str  # "nemo" or "base+adapters"
    adapters: list[str]
    adapters_enabled: bool
    changes: list[str] = field(default_factory=list)  # what was changed in the config on the way
    verified: dict[str, Any] | None = None

    def summary_lines(self) -> list[str]:
        what = ", ".join(self.adapters) if self.adapters else "no adapters"
        lines = [f"exported {self.output} from the run's {self.source}: {what} "
                 f"({'enabled' if self.adapters_enabled else 'disabled'})"]
        lines += [f"  {c}" for c in self.changes]
        if self.verified:
            lines.append(f"  verified with NeMo alone: {self.verified}")
        return lines


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """The run's ``run.json`` with absolute artefact paths (``resolve_run``), or a ``RunDirError`` saying what is
    wrong with the directory."""
    path = Path(run_dir) / ARTIFACTS / RUN_JSON
    try:
        return resolve_run(run_dir)
    except FileNotFoundError:
        raise RunDirError(f"{run_dir} is not a training run directory: {ARTIFACTS}/{RUN_JSON} is missing "
                          "(recipes/train.py writes it)") from None
    except json.JSONDecodeError as e:
        raise RunDirError(f"{path} is not valid JSON: {e}") from None


def _artifact(path: str | None) -> Path | None:
    return Path(path) if path and Path(path).is_file() else None


def load_run_model(run_dir: str | Path, map_location: Any = "cpu"):
    """The run's model with its adapters, and where it came from (``nemo`` or ``base+adapters``)."""
    # torch and NeMo load with the model, not with the package
    from finparakeet.models.adapters import load_adapters
    from finparakeet.models.loading import load_pretrained

    run_dir = Path(run_dir)
    run = read_run(run_dir)
    full = _artifact(run.get("nemo"))
    if full is not None:
        return load_pretrained(nemo_path=full, map_location=map_location), "nemo"
    adapters = _artifact(run.get("adapters"))
    base = run.get("base") or {}
    if adapters is None:
        raise RunDirError(f"{run_dir}: run.json names neither an existing full model ('nemo': {run.get('nemo')!r}) "
                          f"nor adapter weights ('adapters': {run.get('adapters')!r})")
    if not (base.get("nemo_path") or base.get("pretrained_name")):
        raise RunDirError(f"{run_dir}: only adapter weights are saved and the base model was built from a config "
                          "with random weights, which cannot be rebuilt; export needs the run's full .nemo")
    model = load_pretrained(base.get("pretrained_name"), base.get("nemo_path"), map_location=map_location)
    load_adapters(model, adapters, map_location=map_location)
    return model, "base+adapters"


_CODE_PATH = re.compile(r"^finparakeet(\.[A-Za-z_]\w*)+$")


def finparakeet_references(node: Any, where: str = "") -> list[str]:
    """Config entries that name FinParakeet code (a ``_target_`` or any dotted path ``finparakeet.x.Y``);
    file paths that merely contain the word are fine."""
    if isinstance(node, dict):
        return [r for k, v in node.items() for r in finparakeet_references(v, f"{where}.{k}" if where else str(k))]
    if isinstance(node, list):
        return [r for i, v in enumerate(node) for r in finparakeet_references(v, f"{where}[{i}]")]
    return [f"{where}: {node}"] if isinstance(node, str) and _CODE_PATH.match(node) else []


def serving_config(model) -> list[str]:
    """Make the model's config serve with NeMo's stock scripts; returns what was changed."""
    changes = []
    cfg = model.cfg
    with open_dict(cfg):
        if cfg.get("validation_ds") is None:
            cfg.validation_ds = {"manifest_filepath": None, "sample_rate": int(cfg.get("sample_rate", 16000)),
                                 "batch_size": 16, "shuffle": False, "use_start_end_token": False}
            changes.append("added a validation_ds section (NeMo's transcribe() from files reads it)")
    dropped = boosting_keys(cfg.decoding)
    if dropped or cfg.decoding.get("strategy") != "greedy_batch":
        apply_decoding(model, decoding_config(cfg.decoding, {"strategy": "greedy_batch"}, boost=False))
        changes.append(f"decoding: greedy_batch{', dropped ' + ', '.join(dropped) if dropped else ''}")
    bad = finparakeet_references(OmegaConf.to_container(model.cfg, resolve=True))
    if bad:
        raise RunDirError(f"the model config refers to FinParakeet code, which NeMo alone cannot load: {bad[:3]}")
    return changes


def export_run(run_dir: str | Path, output: str | Path, adapters_enabled: bool = True, verify: bool = False,
               map_location: Any = "cpu") -> ExportResult:
    """Write ``output`` (a ``.nemo``) from ``run_dir``; ``verify`` restores it in a fresh Python with NeMo only."""
    from finparakeet.models.adapters import adapter_names, set_adapters_enabled  # torch: with the model only

    output = Path(output)
    if output.suffix != ".nemo":
        raise ValueError(f"output must end in .nemo, got {output}")
    model, source = load_run_model(run_dir, map_location)
    names = adapter_names(model)
    if names:
        set_adapters_enabled(model, adapters_enabled)
    else:
        logger.warning("%s: the model has no adapters; exporting it as it is", run_dir)
    model.eval()
    changes = serving_config(model)
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save_to(str(output))
    result = ExportResult(output, source, names, adapters_enabled, changes)
    if verify:
        result.verified = verify_export(output)
        want = sorted(names) if adapters_enabled else []
        if result.verified.get("enabled_adapters") != want:
            raise RuntimeError(f"{output}: NeMo restored enabled adapters {result.verified.get('enabled_adapters')}, "
                               f"expected {want}")
    return result


VERIFY_SCRIPT = """
import json, sys
from nemo.collections.asr.models import ASRModel
m = ASRModel.restore_from(sys.argv[1], map_location="cpu")
names = [k for k in (m.cfg.get("adapters") or {}) if k != m.adapter_global_cfg_key] if hasattr(m, "adapter_global_cfg_key") else []
print(json.dumps({"class": type(m).__name__, "encoder": type(m.encoder).__name__,
                  "enabled_adapters": sorted(m.get_enabled_adapters()) if names else [],
                  "finparakeet_imported": any(k.split(".")[0] == "finparakeet" for k in sys.modules)}))
"""


def verify_export(path: str | Path, python: str | None = None, timeout: float = 600) -> dict[str, Any]:
    """Restore ``path`` with ``ASRModel.restore_from`` in a fresh interpreter that imports no FinParakeet code."""
    proc = subprocess.run([python or sys.executable, "-c", VERIFY_SCRIPT, str(path)], capture_output=True, text=True,
                          timeout=timeout, cwd=str(Path(path).resolve().parent))
    if proc.returncode != 0:
        raise RuntimeError(f"NeMo could not restore {path}:\n{proc.stderr[-2000:]}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    if info["finparakeet_imported"]:
        raise RuntimeError(f"restoring {path} imported FinParakeet code")
    return info
