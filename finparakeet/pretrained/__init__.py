"""Models shipped inside the package: the general base ``.nemo`` and the finance adapters trained on it.

Each file is listed in ``shipped.json`` beside it with its sha256, size, the ``run.json`` of the run that produced it
and the exact commands that rebuild it. :func:`shipped_path` hands out a file only after checking its sha256, so a
missing, truncated or altered file is reported by name with what to do, never loaded half-way.

    from finparakeet.pretrained import shipped_path
    base = shipped_path("general_base")        # .../finparakeet/pretrained/general_base.nemo, verified
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from finparakeet.rundir import resolve_run

__all__ = ["SHIPPED_DIR", "MANIFEST", "NAMESPACE", "ShippedFile", "ShippedModelError", "read_manifest",
           "shipped_path", "resolve_shipped_name", "sha256_of", "ship_file", "ship_run", "rebuild_command"]

SHIPPED_DIR = Path(__file__).resolve().parent
MANIFEST = "shipped.json"
NAMESPACE = "finparakeet/"  # pretrained_name=finparakeet/general_base names a shipped model, as nvidia/... a hub one


class ShippedModelError(RuntimeError):
    """A shipped file is unknown, missing or not the file that was shipped."""


@dataclass(frozen=True)
class ShippedFile:
    name: str  # the key users pass: "general_base", "finance_adapters"
    file: str  # file name inside SHIPPED_DIR
    sha256: str
    bytes: int
    kind: str  # "nemo" (a whole model) | "adapters" (NeMo save_adapters weights for a base)
    base: Optional[str] = None  # adapters: the shipped base they were trained on
    rebuild: tuple[str, ...] = ()  # the commands that rebuild the file from nothing, in order
    run: dict[str, Any] = field(default_factory=dict)  # the producing run's run.json (provenance)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "bytes": self.bytes, "kind": self.kind, "base": self.base,
                "rebuild": list(self.rebuild), "run": self.run}


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_manifest(directory: str | Path = SHIPPED_DIR) -> dict[str, ShippedFile]:
    """The shipped files listed in ``<directory>/shipped.json`` (empty when nothing is shipped)."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {name: ShippedFile(name=name, file=d["file"], sha256=d["sha256"], bytes=int(d["bytes"]), kind=d["kind"],
                              base=d.get("base"), rebuild=tuple(d.get("rebuild", ())), run=d.get("run", {}))
            for name, d in doc.items()}


def shipped_path(name: str, directory: str | Path = SHIPPED_DIR) -> Path:
    """The verified path of shipped file ``name``; :class:`ShippedModelError` says what is wrong and what to do."""
    files = read_manifest(directory)
    if name not in files:
        known = ", ".join(sorted(files)) or "none"
        raise ShippedModelError(f"no shipped model {name!r} in {Path(directory) / MANIFEST} (shipped: {known})")
    entry = files[name]
    path = Path(directory) / entry.file
    rebuild = "; ".join(entry.rebuild) or "see the README"
    if not path.is_file():
        raise ShippedModelError(f"shipped file {path} is missing: restore it from git (git checkout -- {path}) or "
                                f"rebuild it: {rebuild}")
    size = path.stat().st_size
    if size != entry.bytes or sha256_of(path) != entry.sha256:
        raise ShippedModelError(f"shipped file {path} is not the file that was shipped (sha256 or size differs from "
                                f"{MANIFEST}: {size} bytes, expected {entry.bytes}); restore it from git "
                                f"(git checkout -- {path}) or rebuild it: {rebuild}")
    return path


def ship_file(name: str, source: str | Path, *, kind: str, rebuild: list[str], run: dict[str, Any],
              base: Optional[str] = None, directory: str | Path = SHIPPED_DIR) -> ShippedFile:
    """Copy ``source`` into ``directory`` as shipped file ``name`` and record it in the manifest."""
    source = Path(source)
    suffix = ".nemo" if kind == "nemo" else ".pt"
    target = Path(directory) / f"{name}{suffix}"
    shutil.copyfile(source, target)
    entry = ShippedFile(name=name, file=target.name, sha256=sha256_of(target), bytes=target.stat().st_size, kind=kind,
                        base=base, rebuild=tuple(rebuild), run=run)
    manifest_path = Path(directory) / MANIFEST
    doc = {n: f.to_dict() for n, f in read_manifest(directory).items()}
    doc[name] = entry.to_dict()
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(manifest_path)
    return entry


def resolve_shipped_name(pretrained_name: Optional[str]) -> Optional[Path]:
    """The verified path for ``finparakeet/<name>``; None for any other name (a hub name is NeMo's to resolve)."""
    if not pretrained_name or not pretrained_name.startswith(NAMESPACE):
        return None
    return shipped_path(pretrained_name[len(NAMESPACE):])


def rebuild_command(run_dir: str | Path) -> str:
    """The training command that made ``run_dir``, from Hydra's record of its overrides (``paths.*``, which only say
    where this machine keeps data and runs, left out)."""
    overrides_file = Path(run_dir) / ".hydra" / "overrides.yaml"
    if not overrides_file.is_file():
        raise ShippedModelError(f"{overrides_file} not found: ship a run made by recipes/train.py")
    overrides = [o for o in yaml.safe_load(overrides_file.read_text(encoding="utf-8")) or []
                 if not o.split("=", 1)[0].lstrip("+~").startswith("paths.")]
    return " ".join(["python recipes/train.py", *overrides])


def ship_run(run_dir: str | Path, name: str, kind: str, base: Optional[str] = None,
             directory: str | Path = SHIPPED_DIR, train_commands: Optional[list[str]] = None) -> ShippedFile:
    """Ship a finished training run's ``model.nemo`` (kind ``nemo``) or ``adapters.pt`` (kind ``adapters``).

    ``train_commands`` replace the command read from the run's last sitting, for a run whose sittings differed (one
    stopped at step N of a longer schedule and finished by a sitting with ``trainer.max_steps=N``, which trains no
    further but whose command, run from nothing, would span the schedule over N steps)."""
    if kind not in ("nemo", "adapters"):
        raise ValueError(f"kind must be nemo or adapters, got {kind!r}")
    run = resolve_run(run_dir)
    source = run.get("nemo" if kind == "nemo" else "adapters")
    if not source or not Path(source).is_file():
        raise ShippedModelError(f"{run_dir} has no {kind} artefact (artifacts/run.json: {source})")
    provenance = {k: v for k, v in run.items() if k not in ("nemo", "adapters", "best_checkpoint")}
    ship = f"python recipes/ship_model.py run_dir={run_dir} name={name} kind={kind}" + (f" base={base}" if base else "")
    train = list(train_commands) if train_commands else [rebuild_command(run_dir)]
    return ship_file(name, source, kind=kind, rebuild=[*train, ship], run=provenance, base=base,
                     directory=directory)
