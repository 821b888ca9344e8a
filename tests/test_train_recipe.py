"""The training recipe in-process on the tiny model: artefacts, reports, only adapters train, the entity hook scores
NeNo's own validation hypotheses (no second decode), adapter save/load, bad rows rejected, the no-cuts fallback."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
import torch
import yaml

from conftest import CONF_DIR, tiny_run_overrides

pytestmark = pytest.mark.slow

lightning = pytest.importorskip("lightning.pytorch")


def compose_train(overrides: list[str]):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("train", overrides=overrides)


def _bad_cuts(src: Path, dst: Path) -> Path:
    """``src`` plus two bad rows: audio that does not exist, and an entity span that does not fit its text."""
    from lhotse import CutSet
    from lhotse.utils import fastcopy

    cuts = list(CutSet.from_file(src))
    first = cuts[0]
    missing = fastcopy(first, id="bad-missing-audio",
                       recording=fastcopy(first.recording, id="bad-rec",
                                          sources=[fastcopy(first.recording.sources[0],
                                                            source=str(dst.parent / "nowhere.wav"))]))
    sup = first.supervisions[0]
    broken = {**(sup.custom or {}),
              "entities": [{"start": 0, "end": 4, "category": "ORG", "text": "Nope"}]}
    mismatch = fastcopy(first, id="bad-entity", supervisions=[fastcopy(sup, id="bad-entity-sup", custom=broken)])
    CutSet.from_cuts([*cuts, missing, mismatch]).to_file(dst)
    return dst


class Probe(lightning.Callback):
    """Snapshots the weights when training starts; counts decoding calls and keeps their texts during validation."""

    def __init__(self):
        self.initial = None
        self.decode_calls = 0
        self.val_batches = 0
        self.decoded: list[str] = []
        self._validating = False
        self._patched = None

    def on_train_start(self, trainer, pl_module):
        if self.initial is None:
            self.initial = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}

    def on_validation_start(self, trainer, pl_module):
        decoding = pl_module.decoding
        if self._patched is not decoding:
            original = decoding.rnnt_decoder_predictions_tensor

            def counted(*args, **kwargs):
                out = original(*args, **kwargs)
                if self._validating:
                    self.decode_calls += 1
                    self.decoded.extend(h.text for h in out)
                return out

            decoding.rnnt_decoder_predictions_tensor = counted
            self._patched = decoding
        self._validating = True

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self.val_batches += 1

    def on_validation_end(self, trainer, pl_module):
        self._validating = False


@pytest.fixture(scope="module")
def trained(synth_dir, tmp_path_factory):
    from finparakeet.training import train

    tmp = tmp_path_factory.mktemp("train")
    bad = _bad_cuts(synth_dir / "train_cuts.jsonl.gz", tmp / "train_with_bad_rows.jsonl.gz")
    run_dir = tmp / "run"
    cfg = compose_train([*tiny_run_overrides(synth_dir, steps=3), f"paths.run_dir={run_dir}",
                         f"data.train_cuts={bad}"])
    probe = Probe()
    result = train(cfg, callbacks=[probe], keep_model=True)
    return result, probe, cfg


def test_run_writes_reports_metrics_and_artefacts(trained):
    result, _, _ = trained
    run = result.run_dir
    assert result.global_step == 3
    for ext in ("json", "md", "html"):
        assert (run / "reports" / "epoch_0" / f"entity_report.{ext}").stat().st_size > 0
    report = json.loads((run / "reports" / "epoch_0" / "entity_report.json").read_text())
    assert report["num_utterances"] == 6 and report["num_entities"] > 0  # every dev cut, with its spans
    history = json.loads((run / "metrics.json").read_text())
    assert [e["step"] for e in history] == [3]
    assert {"val_entity_wer", "val_entity_accuracy", "val_wer", "val_loss"} <= set(history[0])
    assert any(k.startswith("val_entity_wer/") for k in history[0])
    assert history[0]["val_entity_wer"] == pytest.approx(report["entity_wer"])
    assert history[0]["val_normalized_wer"] == pytest.approx(report["wer"])  # both sides normalised, unlike val_wer
    doc = json.loads((run / "artifacts" / "run.json").read_text())
    assert doc["nemo"] == "artifacts/model.nemo" and doc["adapters"] == "artifacts/adapters.pt"
    assert doc["best_checkpoint"].startswith("checkpoints/best") and (run / doc["best_checkpoint"]).is_file()
    assert doc["base"]["model_config"] is None or doc["base"]["model_config"] == "tiny_tdt"
    assert doc["adapter"]["type"] == "linear" and doc["global_step"] == 3
    assert 0 < doc["trainable_params"] < doc["total_params"]
    assert 0 < doc["sitting_wall_seconds"] < 600
    assert doc["best_val_entity_wer"] == pytest.approx(history[0]["val_entity_wer"])
    assert doc["best_val_wer"] == pytest.approx(history[0]["val_wer"])
    assert (run / "checkpoints" / "last.ckpt").is_file()
    # TensorBoard got the entity metrics too
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    assert {"val_entity_wer", "val_entity_accuracy", "val_wer"} <= set(events.Tags()["scalars"])


def test_bad_training_rows_are_rejected_not_fatal(trained):
    result, _, _ = trained
    rejects = [json.loads(x) for x in (result.run_dir / "data" / "train" / "rejects.jsonl").read_text().splitlines()]
    assert {(r["id"], r["kind"]) for r in rejects} == {("bad-missing-audio", "audio_missing"),
                                                       ("bad-entity", "entity_mismatch")}
    assert result.data.rejected["train"] == 2 and result.data.rejected["validation"] == 0
    assert result.global_step == 3  # trained anyway, on the clean cuts


def test_only_adapter_parameters_change(trained):
    result, probe, _ = trained
    after = result.model.state_dict()
    assert probe.initial is not None and set(after) == set(probe.initial)
    changed = {k for k in after if not torch.equal(after[k].cpu(), probe.initial[k].cpu())}
    assert changed, "nothing trained"
    assert all("adapter" in k for k in changed), sorted(k for k in changed if "adapter" not in k)
    # every trainable parameter is an adapter's
    assert all("adapter" in n for n, p in result.model.named_parameters() if p.requires_grad)


def test_hook_scores_nemo_validation_hypotheses_without_a_second_decode(trained):
    from lhotse import CutSet

    from finparakeet.scoring import EntityMetric

    result, probe, _ = trained
    run = result.run_dir
    assert probe.val_batches > 0 and probe.decode_calls == probe.val_batches  # one decoding per batch: NeMo's own
    preds = [json.loads(x) for x in (run / "reports" / "epoch_0" / "predictions.jsonl").read_text().splitlines()]
    assert sorted(p["pred_text"] for p in preds) == sorted(probe.decoded)  # NeMo's strings, each utterance once
    assert [p["id"] for p in preds] == sorted(p["id"] for p in preds)  # in cut-id order
    # Score the decoded texts against the validated dev cuts with the scorer directly.
    cuts = {c.id: c for c in CutSet.from_file(run / "data" / "validation" / "clean_cuts.jsonl.gz")}
    assert sorted(cuts) == sorted(p["id"] for p in preds)
    metric = EntityMetric()
    sups = [cuts[p["id"]].supervisions[0] for p in preds]
    metric.update([s.text for s in sups], [p["pred_text"] for p in preds], entities=[s.custom["entities"] for s in sups],
                  ids=[p["id"] for p in preds])
    direct = metric.compute()
    report = json.loads((run / "reports" / "epoch_0" / "entity_report.json").read_text())
    for key in ("entity_wer", "entity_accuracy", "wer", "num_entities", "entity_errors"):
        assert report[key] == pytest.approx(direct[key]), key
    assert report["unseen"] == direct["unseen"]
    assert set(report["categories"]) == set(direct["categories"])


def _joint(model, audio, lens, texts):
    from finparakeet.models.step import tokenize_batch

    tgt, tl = tokenize_batch(model, texts)
    model.eval()
    with torch.no_grad():
        enc, _ = model.forward(input_signal=audio.clone(), input_signal_length=lens)
        dec, _, _ = model.decoder(targets=tgt, target_length=tl)
        return model.joint(encoder_outputs=enc, decoder_outputs=dec)


def test_adapters_file_restores_the_trained_model(trained):
    from finparakeet.models.adapters import load_adapters
    from finparakeet.models.loading import build_model

    result, _, cfg = trained
    trained_model = result.model
    g = torch.Generator().manual_seed(0)
    audio, lens = 0.1 * torch.randn(2, 16000, generator=g), torch.tensor([16000, 12000])
    texts = ["Revenue rose 5%.", "Apple beat estimates."]
    expected = _joint(trained_model, audio, lens, texts)

    fresh = build_model(cfg.model)  # same architecture, other random weights, no adapters
    base = {k: v for k, v in trained_model.state_dict().items() if "adapter" not in k}
    fresh.load_state_dict(base, strict=False)
    loaded = load_adapters(fresh, result.run_dir / "artifacts" / "adapters.pt")
    assert loaded == ["encoder:fin_enc"]
    assert torch.equal(_joint(fresh, audio, lens, texts), expected)
    fresh.set_enabled_adapters(enabled=False)  # the adapters are what makes the difference
    assert not torch.equal(_joint(fresh, audio, lens, texts), expected)


def test_model_nemo_is_nemo_own_class_with_adapters(trained):
    from nemo.collections.asr.models import ASRModel

    result, _, _ = trained
    path = result.run_dir / "artifacts" / "model.nemo"
    with tarfile.open(path) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("model_config.yaml"))
        config = yaml.safe_load(tar.extractfile(member))
    assert config["target"] == "nemo.collections.asr.models.rnnt_bpe_models.EncDecRNNTBPEModel"
    assert config["encoder"]["_target_"].startswith("nemo.collections.asr.modules.")
    assert "fin_enc" in config["adapters"]
    restored = ASRModel.restore_from(str(path), map_location="cpu")
    g = torch.Generator().manual_seed(1)
    audio, lens = 0.1 * torch.randn(1, 16000, generator=g), torch.tensor([16000])
    assert torch.equal(_joint(restored, audio, lens, ["Q3"]), _joint(result.model, audio, lens, ["Q3"]))


def test_hook_without_cuts_decodes_references_from_token_ids(trained):
    """A plain NeMo manifest gives 4-item batches: references come from the target ids, entities from the tagger."""
    from types import SimpleNamespace

    from finparakeet.lightning.hook import EntityValidationCallback
    from finparakeet.models.step import tokenize_batch

    result, _, _ = trained
    model = result.model
    texts = ["Apple raised its dividend to $0.25.", "Margins fell 50 bps in Q3."]
    tgt, tl = tokenize_batch(model, texts)
    g = torch.Generator().manual_seed(2)
    audio, lens = 0.1 * torch.randn(2, 16000, generator=g), torch.tensor([16000, 16000])
    hook = EntityValidationCallback(result.run_dir / "no_cuts", write_reports=False)
    trainer = SimpleNamespace(sanity_checking=False, global_step=0, is_global_zero=True)
    batch = [audio, lens, tgt, tl]
    hook.on_validation_epoch_start(trainer, model)
    hook.on_validation_batch_start(trainer, model, batch, 0)
    assert len(batch) == 4
    model.eval()
    with torch.no_grad():  # what NeMo's validation_pass does with the batch
        enc, enc_len = model.forward(input_signal=audio, input_signal_length=lens)
        model.wer.update(predictions=enc, predictions_lengths=enc_len, targets=tgt, targets_lengths=tl)
        model.wer.reset()  # NeMo resets right away: the tap has already copied the hypotheses
    hook.on_validation_batch_end(trainer, model, None, batch, 0)
    assert hook.tap.references() == texts
    assert [r["text"] for r in hook.records] == texts and [r["id"] for r in hook.records] == ["0-0-0", "0-0-1"]
    # NeMo's own word errors per utterance: what its val_wer sums
    assert [r["wer_words"] for r in hook.records] == [len(t.split()) for t in texts]
    report = hook.compute(hook.records)
    assert report["num_utterances"] == 2
    cats = {e["category"] for u in report["utterances"] for e in u["entities"]}
    assert {"MONEY", "BPS"} <= cats or {"MONEY", "PERCENT"} <= cats  # tagged, since no spans came along
