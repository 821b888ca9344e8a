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
import re
from pathlib import Path
from typing import Any, Optional, Sequence

import lightning.pytorch as pl
from kaldialign import edit_distance  # NeMo's own word-error counter (its WER metric uses it)
from lightning.pytorch.utilities import rank_zero_only

from finparakeet.biasing.phrases import read_key_phrases
from finparakeet.data.references import cut_reference
from finparakeet.lightning.data import CUTS_MARKER
from finparakeet.lightning.history import METRICS_FILE, append_metrics

__all__ = ["HypothesisTap", "EntityValidationCallback", "gather_records", "unique_by_id"]


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

        # NeMo 3.0 has no public hook for the hypotheses its validation decodes (wer.reset() drops them), hence the
        # wrap. An instance attribute: torchmetrics drops it on pickling/deepcopy, so saved models carry no trace.
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
    refs, ents, ids = [], [], []
    for cut in cuts:
        text, spans = cut_reference(cut)  # the scorer's own reading of a cut (texts joined)
        refs.append(text)
        ents.append(spans)
        ids.append(cut.id)
    return refs, ents, ids


def _is_cuts(x: Any) -> bool:
    from lhotse import CutSet

    return isinstance(x, CutSet) or (isinstance(x, (list, tuple)) and bool(x) and hasattr(x[0], "supervisions"))


def _finite(x: Optional[float]) -> float:
    return float("nan") if x is None else float(x)


_DUPLICATE = re.compile(r"^(?P<id>.+)_dup\d+$")  # lhotse's mark_as_duplicate: "<id>_dup<n>"


def unique_by_id(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each utterance once, in cut-id order (the same whatever the number of processes).

    With several processes Lhotse's sampler pads the last round so every rank gets a batch: when fewer cuts than
    ranks remain it repeats cuts under the id ``<id>_dup<n>``. Those copies (and any repeated id) are dropped."""
    ids = {r["id"] for r in records}
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        m = _DUPLICATE.match(r["id"])
        if m and m.group("id") in ids:
            continue
        out.setdefault(r["id"], r)
    return [out[k] for k in sorted(out)]


def gather_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every process's records on every process (``all_gather_object``); the records themselves when not
    distributed."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return list(records)
    parts: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(parts, records)
    return [r for part in parts for r in part]


class EntityValidationCallback(pl.Callback):
    """Scores every validation epoch's hypotheses with the finance :class:`~finparakeet.scoring.EntityMetric`.

    Logs ``val_entity_wer``, ``val_entity_accuracy``, ``val_entity_wer/<CAT>``, ``val_entity_accuracy/<CAT>``,
    ``val_entity_wer/unseen`` and ``val_entity_accuracy/unseen`` (undefined rates: the two overall ones as NaN,
    the rest left out); on rank 0 writes ``<run_dir>/reports/epoch_<N>/entity_report.{json,md,html}`` plus
    ``predictions.jsonl`` (``id``, ``text``, ``pred_text``, ``entities``: a manifest ``recipes/evaluate.py`` scores)
    and appends the epoch's ``val_*`` scalars to ``<run_dir>/metrics.json``. ``N`` counts validation epochs
    (0, 1, ...; sanity checks are not scored) and survives a resume (the validation Lightning repeats after resuming
    from a checkpoint saved at a validation end keeps its N and replaces its entry).

    With several processes each one keeps its utterances' records (reference, hypothesis, entity spans, NeMo's word
    errors); at the epoch end they are all-gathered, each utterance kept once, and every process scores the whole
    set: the figures, the report and the predictions are those of one process over the same cuts. NeMo's own
    ``val_wer`` is made global the same way (see :meth:`_global_nemo_wer`).
    """

    def __init__(self, run_dir: str | Path, *, prefix: str = "val_", write_reports: bool = True,
                 write_predictions: bool = True, log_categories: bool = True,
                 bias_list: str | Path | Sequence[str] | None = None,
                 categories: Optional[Sequence[str]] = None) -> None:
        """``bias_list``: key phrases, or a key-phrase file to read them from."""
        super().__init__()
        self.run_dir = Path(run_dir)
        self.prefix = prefix
        self.write_reports = write_reports
        self.write_predictions = write_predictions
        self.log_categories = log_categories
        if isinstance(bias_list, (str, Path)):
            bias_list = read_key_phrases(bias_list, allow_empty=True)
        self.bias_list = list(bias_list) if bias_list is not None else None
        self.categories = categories
        self.tap = HypothesisTap()
        self.validations = 0  # completed (scored) validation epochs
        self.last_step = -1  # global step of the last one
        self._index = 0  # this validation epoch's N
        self.last_report: Optional[dict[str, Any]] = None
        self._cuts: Any = None
        self.records: list[dict[str, Any]] = []  # this process's utterances of the current validation epoch
        self._duplicate_batches: set[int] = set()  # batches made only of Lhotse's padding copies

    # ---- state (restored on resume, so report folders keep counting) ------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"validations": self.validations, "last_step": self.last_step}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.validations = int(state_dict.get("validations", 0))
        self.last_step = int(state_dict.get("last_step", -1))

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           checkpoint: dict[str, Any]) -> None:
        # A checkpoint written between two validations still holds the previous validation's batch counts; Lightning
        # (2.4) adds them to the fetch count of the validation it repeats on resume, which then stops after one
        # batch and would replace a whole validation's figures with a sliver's. Callbacks are restored before the
        # loops, so zeroing the counts here makes the repeat a full validation.
        progress = checkpoint.get("loops", {}).get("fit_loop", {}).get("epoch_loop.val_loop.batch_progress")
        if progress and "current" in progress:
            progress["current"] = {k: 0 for k in progress["current"]}
            progress["is_last_batch"] = False

    # ---- scoring ----------------------------------------------------------------------------------------------
    def compute(self, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The entity report of ``records`` (already gathered and unique), in their order."""
        from finparakeet.scoring import EntityMetric

        kw = {"categories": self.categories} if self.categories is not None else {}
        # No torchmetrics sync: the records are already every process's.
        metric = EntityMetric(bias_list=self.bias_list, sync_on_compute=False, **kw)
        if records:
            metric.update([r["text"] for r in records], [r["pred_text"] for r in records],
                          entities=[r["spans"] for r in records], ids=[r["id"] for r in records])
        return metric.compute()

    # ---- hooks ----------------------------------------------------------------------------------------------------
    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.tap.attach(pl_module)
        self.records = []
        self._duplicate_batches = set()
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
        token_refs = self.tap.references()  # what NeMo's WER compared against
        if self._cuts is not None:
            refs, ents, ids = _cut_references(self._cuts)
            if ids and all(_DUPLICATE.match(i) for i in ids):
                self._duplicate_batches.add(batch_idx)
        else:
            refs, ents = token_refs, [None] * len(token_refs)
            rank = getattr(trainer, "global_rank", 0)
            ids = [f"{rank}-{batch_idx}-{k}" for k in range(len(refs))]
        if not (len(hyps) == len(refs) == len(token_refs)):
            raise RuntimeError(f"validation batch {batch_idx}: {len(hyps)} hypotheses for {len(refs)} references")
        use_cer = bool(getattr(self.tap._wer, "use_cer", False))
        for k, (ref, hyp) in enumerate(zip(refs, hyps)):
            r_list, h_list = (list(token_refs[k]), list(hyp)) if use_cer else (token_refs[k].split(), hyp.split())
            self.records.append({"id": ids[k], "text": ref, "pred_text": hyp, "spans": ents[k],
                                 "wer_errors": int(edit_distance(r_list, h_list)["total"]),
                                 "wer_words": len(r_list)})
        self._cuts = None

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        gathered = gather_records(self.records)
        records = unique_by_id(gathered)
        if len(records) < len(gathered) and trainer.is_global_zero:
            print(f"[finparakeet] validation: {len(gathered) - len(records)} repeated cut(s) counted once "
                  f"({len(records)} utterances)", flush=True)
        if trainer.world_size > 1:
            self._global_nemo_wer(pl_module, records, self._duplicate_batches)
        report = self.compute(records)
        self.last_report = report
        p = self.prefix
        # NeMo's val_wer compares token strings with the written labels ("$98"), so a model that writes the spoken
        # form is charged for it; the report's WER compares both sides normalised, as the entity figures do.
        scalars = {f"{p}normalized_wer": _finite(report["wer"]),
                   f"{p}entity_wer": _finite(report["entity_wer"]),
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
        for name, value in scalars.items():  # the same value on every process: nothing to reduce
            pl_module.log(name, value, on_epoch=True, sync_dist=False)
        if trainer.is_global_zero:
            self._write_report(report, records)

    @staticmethod
    def _global_nemo_wer(pl_module: pl.LightningModule, records: Sequence[dict[str, Any]],
                         duplicate_batches: set[int]) -> None:
        """Make NeMo's ``val_wer`` the WER of all processes' utterances, each counted once.

        NeMo 3.0's ``multi_validation_epoch_end`` sums ``val_wer_num``/``val_wer_denom`` over this process's
        ``validation_step_outputs`` and logs the ratio without a sync (no public hook changes that), so each rank
        would log its own share's WER. This runs before the module's epoch end (Lightning calls callbacks first)
        and leaves one output carrying the global counts; the validation losses of every process are kept, but for
        batches of Lhotse's padding copies."""
        import torch
        import torch.distributed as dist

        outputs = pl_module.validation_step_outputs
        if not outputs or not isinstance(outputs[0], dict):
            return  # several validation dataloaders: left as NeMo computes them
        losses = [float(o["val_loss"]) for i, o in enumerate(outputs) if "val_loss" in o and i not in duplicate_batches]
        parts: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(parts, losses)
        losses = [x for part in parts for x in part]
        device = outputs[0]["val_wer_num"].device
        zero = torch.tensor(0.0, device=device)
        merged = [{"val_loss": torch.tensor(x, device=device), "val_wer_num": zero, "val_wer_denom": zero}
                  for x in losses] or [{"val_wer_num": zero, "val_wer_denom": zero}]
        merged[0] = {**merged[0],
                     "val_wer_num": torch.tensor(float(sum(r["wer_errors"] for r in records)), device=device),
                     "val_wer_denom": torch.tensor(float(sum(r["wer_words"] for r in records)), device=device)}
        # Other error counts (the hybrid model's CTC head: val_wer_num_ctc/val_wer_denom_ctc) are summed over every
        # process too; NeMo's epoch end reads them from each output, so every output carries them (zero but one).
        extra = sorted(k for k in outputs[0] if k.startswith("val_wer_") and k not in ("val_wer_num", "val_wer_denom")
                       and ("_num" in k or "_denom" in k))
        if extra:
            mine = torch.tensor([[float(o[k]) for k in extra] for i, o in enumerate(outputs)
                                 if i not in duplicate_batches] or [[0.0] * len(extra)], device=device).sum(dim=0)
            dist.all_reduce(mine)
            for m in merged:
                m.update({k: zero for k in extra})
            merged[0].update({k: torch.tensor(float(v), device=device) for k, v in zip(extra, mine)})
        outputs[:] = merged

    @rank_zero_only
    def _write_report(self, report: dict[str, Any], records: Sequence[dict[str, Any]]) -> None:
        out = self.report_dir(self._index)
        if self.write_reports:
            from finparakeet.scoring import write_reports

            write_reports(report, out)
        if self.write_predictions:
            out.mkdir(parents=True, exist_ok=True)
            with open(out / "predictions.jsonl", "w", encoding="utf-8") as f:
                for r in records:
                    row = {"id": r["id"], "text": r["text"], "pred_text": r["pred_text"]}
                    if r["spans"] is not None:
                        row["entities"] = [e.to_dict() for e in r["spans"]]
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")

    def report_dir(self, n: int) -> Path:
        return self.run_dir / "reports" / f"epoch_{n}"

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # After the module's own epoch end: NeMo's val_wer / val_loss are in callback_metrics now.
        if trainer.sanity_checking:
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
        self.records = []
