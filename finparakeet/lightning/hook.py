"""Entity WER in the Lightning validation loop, from the hypotheses NeMo's validation already decodes.

NeMo's ``validation_pass`` calls ``self.wer.update(...)`` (directly, or per sub-batch through the fused joint),
which decodes the batch and keeps the hypotheses in ``wer.hypotheses`` -- then ``wer.reset()`` clears them before
``validation_step`` returns. :class:`HypothesisTap` wraps that one metric's ``update`` to copy them out as they are
made: no second decoding pass, and the entity metric scores exactly the strings ``val_wer`` scored.

References: with the cuts riding along in the batch (:mod:`finparakeet.lightning.data`), each utterance's written text
and entity spans (with ``seen``) come from its supervision; without them (a plain NeMo manifest) the reference is the
batch's token ids decoded to text and the finance tagger finds the entities.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Optional, Sequence

import lightning.pytorch as pl
from lightning.pytorch.utilities import rank_zero_only

from finparakeet.lightning.data import CUTS_MARKER
from finparakeet.lightning.history import METRICS_FILE, append_metrics

__all__ = ["HypothesisTap", "EntityValidationCallback"]


class HypothesisTap:
    """Copies the hypotheses (and target ids) out of every ``wer.update`` call while :attr:`active`."""

    def __init__(self) -> None:
        self.active = False
        self.hypotheses: list[Any] = []
        self.targets: list[tuple[Any, Any]] = []  # (ids [B, U], lengths [B]) per update call, on CPU
        self._wer = None

    def attach(self, model) -> None:
        """Wrap ``model.wer.update`` (again if the model rebuilt its metric, e.g. ``change_decoding_strategy``)."""
        wer = model.wer
        if wer is self._wer:
            return
        original = wer.update  # torchmetrics' own wrapper around WER.update
        tap = self

        def update(*args: Any, **kwargs: Any) -> Any:
            out = original(*args, **kwargs)
            if tap.active:
                tap.hypotheses.extend(h[0] if isinstance(h, list) else h for h in (wer.hypotheses or []))
                targets = kwargs.get("targets", args[2] if len(args) > 2 else None)
                lengths = kwargs.get("targets_lengths", args[3] if len(args) > 3 else None)
                if targets is not None and lengths is not None:
                    tap.targets.append((targets.detach().cpu(), lengths.detach().cpu()))
            return out

        # An instance attribute: torchmetrics drops it on pickling/deepcopy, so saved models carry no trace.
        wer.update = update
        self._wer = wer

    def clear(self) -> None:
        self.hypotheses, self.targets = [], []

    def texts(self) -> list[str]:
        return [h.text if hasattr(h, "text") else str(h) for h in self.hypotheses]

    def references(self) -> list[str]:
        """The batch's target token ids as text (what NeMo's WER compares against)."""
        refs = []
        for ids, lens in self.targets:
            for row, n in zip(ids.long(), lens.long()):
                refs.append(self._wer.decoding.decode_ids_to_str(row[: int(n)].tolist()))
        return refs


def _cut_references(cuts: Sequence[Any]) -> tuple[list[str], list[Optional[list]], list[str]]:
    from finparakeet.scoring.inputs import _cut_reference  # the scorer's own reading of a cut (texts joined)

    refs, ents, ids = [], [], []
    for cut in cuts:
        text, spans = _cut_reference(cut)
        refs.append(text)
        ents.append(spans)
        ids.append(cut.id)
    return refs, ents, ids


def _is_cuts(x: Any) -> bool:
    from lhotse import CutSet

    return isinstance(x, CutSet) or (isinstance(x, (list, tuple)) and bool(x) and hasattr(x[0], "supervisions"))


def _finite(x: Optional[float]) -> float:
    return float("nan") if x is None else float(x)


class EntityValidationCallback(pl.Callback):
    """Scores every validation epoch's hypotheses with the finance :class:`~finparakeet.scoring.EntityMetric`.

    Logs ``val_entity_wer``, ``val_entity_accuracy``, ``val_entity_wer/<CAT>``, ``val_entity_accuracy/<CAT>``,
    ``val_entity_wer/unseen`` and ``val_entity_accuracy/unseen`` (undefined rates: the two overall ones as NaN,
    the rest left out); on rank 0 writes ``<run_dir>/reports/epoch_<N>/entity_report.{json,md,html}`` plus
    ``predictions.jsonl`` (``id``, ``text``, ``pred_text``, ``entities``: a manifest ``recipes/evaluate.py`` scores)
    and appends the epoch's ``val_*`` scalars to ``<run_dir>/metrics.json``. ``N`` counts validation epochs
    (0, 1, ...; sanity checks are not scored) and survives a resume (the validation Lightning repeats after resuming
    from a checkpoint saved at a validation end keeps its N and replaces its entry).
    """

    def __init__(self, run_dir: str | Path, *, prefix: str = "val_", write_reports: bool = True,
                 write_predictions: bool = True, log_categories: bool = True, bias_list: Optional[Sequence[str]] = None,
                 categories: Optional[Sequence[str]] = None) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.prefix = prefix
        self.write_reports = write_reports
        self.write_predictions = write_predictions
        self.log_categories = log_categories
        self.bias_list = list(bias_list) if bias_list is not None else None
        self.categories = categories
        self.tap = HypothesisTap()
        self.metric = None
        self.validations = 0  # completed (scored) validation epochs
        self.last_step = -1  # global step of the last one
        self._index = 0  # this validation epoch's N
        self.last_report: Optional[dict[str, Any]] = None
        self._cuts: Any = None
        self._predictions: list[dict[str, Any]] = []

    # ---- state (restored on resume, so report folders keep counting) ------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"validations": self.validations, "last_step": self.last_step}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.validations = int(state_dict.get("validations", 0))
        self.last_step = int(state_dict.get("last_step", -1))

    # ---- hooks ----------------------------------------------------------------------------------------------------
    def _new_metric(self):
        from finparakeet.scoring import EntityMetric

        kw = {"categories": self.categories} if self.categories is not None else {}
        return EntityMetric(bias_list=self.bias_list, **kw)

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.tap.attach(pl_module)
        if self.metric is None:
            self.metric = self._new_metric()
        # States on the module's device: torchmetrics' sync all-gathers them (NCCL needs CUDA tensors).
        self.metric = self.metric.to(pl_module.device)
        self.metric.reset()
        self._predictions = []
        # Lightning repeats the validation a checkpoint was saved in when it resumes from it: same step, same N.
        repeat = trainer.global_step == self.last_step and self.validations > 0
        self._index = self.validations - 1 if repeat else self.validations

    def on_validation_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                                  batch_idx: int, dataloader_idx: int = 0) -> None:
        self._cuts = None
        # Always take the cuts off (sanity checks too): NeMo's validation_step unpacks four items.
        if isinstance(batch, list) and len(batch) == CUTS_MARKER and _is_cuts(batch[-1]):
            self._cuts = list(batch.pop())
        self.tap.attach(pl_module)
        self.tap.clear()
        self.tap.active = True

    def on_validation_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                                batch_idx: int, dataloader_idx: int = 0) -> None:
        self.tap.active = False
        if trainer.sanity_checking:
            return
        hyps = self.tap.texts()
        if self._cuts is not None:
            refs, ents, ids = _cut_references(self._cuts)
            if len(hyps) != len(refs):
                raise RuntimeError(f"validation batch {batch_idx}: {len(hyps)} hypotheses for {len(refs)} cuts")
        else:
            refs = self.tap.references()
            ents, ids = None, None
            if len(hyps) != len(refs):
                raise RuntimeError(f"validation batch {batch_idx}: {len(hyps)} hypotheses for {len(refs)} references")
        self.metric.update(refs, hyps, entities=ents, ids=ids)
        if self.write_predictions:
            for k, (r, h) in enumerate(zip(refs, hyps)):
                row = {"id": ids[k] if ids else f"{batch_idx}-{k}", "text": r, "pred_text": h}
                if ents is not None and ents[k] is not None:
                    row["entities"] = [e.to_dict() for e in ents[k]]
                self._predictions.append(row)
        self._cuts = None

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking or self.metric is None:
            return
        report = self.metric.compute()  # synced across processes (sum-reduced counts)
        self.last_report = report
        p = self.prefix
        scalars = {f"{p}entity_wer": _finite(report["entity_wer"]),
                   f"{p}entity_accuracy": _finite(report["entity_accuracy"])}
        if self.log_categories:
            for cat, g in report["categories"].items():
                for key in ("entity_wer", "entity_accuracy"):
                    if g[key] is not None:
                        scalars[f"{p}{key}/{cat}"] = float(g[key])
            for key in ("entity_wer", "entity_accuracy"):
                if report["unseen"][key] is not None:
                    scalars[f"{p}{key}/unseen"] = float(report["unseen"][key])
        if report.get("keyphrases"):
            scalars[f"{p}keyphrase_f1"] = float(report["keyphrases"]["f1"])
        for name, value in scalars.items():
            pl_module.log(name, value, on_epoch=True, sync_dist=True)
        if trainer.is_global_zero:
            self._write_report(report)

    @rank_zero_only
    def _write_report(self, report: dict[str, Any]) -> None:
        out = self.report_dir(self._index)
        if self.write_reports:
            from finparakeet.scoring import write_reports

            write_reports(report, out)
        if self.write_predictions:
            out.mkdir(parents=True, exist_ok=True)
            with open(out / "predictions.jsonl", "w", encoding="utf-8") as f:
                for row in self._predictions:
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")

    def report_dir(self, n: int) -> Path:
        return self.run_dir / "reports" / f"epoch_{n}"

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # After the module's own epoch end: NeMo's val_wer / val_loss are in callback_metrics now.
        if trainer.sanity_checking or self.metric is None:
            return
        if trainer.is_global_zero:
            entry: dict[str, Any] = {"validation": self._index, "epoch": trainer.current_epoch,
                                     "step": trainer.global_step}
            for k, v in sorted(trainer.callback_metrics.items()):
                if k.startswith(self.prefix) or k.startswith("time/"):  # time/: the TrainingClock's hours
                    value = float(v)
                    entry[k] = None if math.isnan(value) else value
            if self.write_reports:
                entry["report"] = str(self.report_dir(self._index).relative_to(self.run_dir))
            append_metrics(self.run_dir / METRICS_FILE, entry)
        self.validations = self._index + 1
        self.last_step = trainer.global_step
        self.metric.reset()
        self._predictions = []
