"""The model layer on a ~1M-parameter tiny TDT model: configs, tokenizer, CPU training, adapters, loading."""

from __future__ import annotations

import pytest
import torch
from omegaconf import DictConfig, OmegaConf

from finparakeet.models import loading
from finparakeet.models.loading import (
    PretrainedUnavailableError,
    build_model,
    count_parameters,
    load_adapter_config,
    load_model_config,
    load_or_build,
    load_pretrained,
)
from finparakeet.models.tokenizer import encode_check, train_tokenizer

SENTENCES = [
    "Revenue rose 12.5% to $4.2 billion in the third quarter.",
    "Apple and Microsoft beat consensus estimates.",
    "Gross margin fell 50 bps, the CFO said.",
    "NVIDIA guided fiscal 2025 EBITDA higher.",
    "We repurchased 3 million shares for $210 million.",
    "Free cash flow was $1.1 billion, up 8% year over year.",
    "Our outlook assumes rates stay near 5.25%.",
    "Operating expenses grew 4% to $870 million.",
    "The board approved a dividend of $0.24 per share.",
    "Net income per diluted share was $2.03.",
    "Can you talk about pricing in Europe?",
    "Thank you, operator, and good morning, everyone.",
] * 3

TEXTS = ["Apple beat estimates.", "Margins fell 50 bps.", "Revenue rose 12.5%."]


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    return train_tokenizer(SENTENCES, tmp_path_factory.mktemp("tok") / "spe", vocab_size=128)


def tiny_cfg(tok_dir, *overrides):
    return load_model_config("tiny_tdt", [f"model.tokenizer.dir={tok_dir}", *overrides])


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(0)
    audio = 0.1 * torch.randn(3, 24000, generator=g)
    return audio, torch.tensor([24000, 20000, 16000])


def targets(model):
    from finparakeet.models.step import tokenize_batch

    return tokenize_batch(model, TEXTS)


def joint_out(model, batch):
    """Full-model output (encoder, prediction net, joint) in eval mode."""
    audio, lens = batch
    tgt, tl = targets(model)
    model.eval()
    with torch.no_grad():
        enc, _ = model.forward(input_signal=audio.clone(), input_signal_length=lens)
        dec, _, _ = model.decoder(targets=tgt, target_length=tl)
        return model.joint(encoder_outputs=enc, decoder_outputs=dec)


def train_steps(model, batch, steps=3, lr=1e-2):
    from finparakeet.models.step import transducer_loss

    audio, lens = batch
    tgt, tl = targets(model)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for _ in range(steps):
        # NeMo's preprocessor dithers its input in place during training: give it a copy.
        loss = transducer_loss(model, audio.clone(), lens, tgt, tl)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss


# ---- tokenizer ------------------------------------------------------------------------------------------------


def test_tokenizer_layout_is_what_nemo_reads(tok_dir):
    import sentencepiece as spm

    assert {p.name for p in tok_dir.iterdir()} >= {"tokenizer.model", "tokenizer.vocab", "vocab.txt"}
    sp = spm.SentencePieceProcessor(model_file=str(tok_dir / "tokenizer.model"))
    vocab = (tok_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert len(vocab) == sp.get_piece_size() - 1  # every piece but <unk>
    assert sp.get_piece_size() <= 128


@pytest.mark.parametrize("text", ["NVDA rose 3.5% & AAPL fell $2?", "Q&A: €5 or £7 (EBITDA) #1!", "S&P 500"])
def test_tokenizer_keeps_case_and_finance_symbols(tok_dir, text):
    assert encode_check(tok_dir, text) is None  # no <unk>, exact round trip (case kept)


def test_tokenizer_bpe_variant(tmp_path):
    out = train_tokenizer(SENTENCES, tmp_path / "bpe", vocab_size=120, model_type="bpe")
    assert encode_check(out, "Revenue was $4.2 billion, up 12%.") is None


# ---- configs ---------------------------------------------------------------------------------------------------


def test_parakeet_config_documents_the_architecture():
    cfg = load_model_config("parakeet_tdt_0.6b_v2")
    assert cfg.pretrained_name == "nvidia/parakeet-tdt-0.6b-v2" and cfg.nemo_path is None
    enc = cfg.encoder
    assert (enc.d_model, enc.n_layers, enc.n_heads, enc.ff_expansion_factor, enc.conv_kernel_size) == (
        1024, 24, 8, 4, 9)
    assert (enc.subsampling, enc.subsampling_factor, enc.feat_in) == ("dw_striding", 8, 128)
    assert cfg.preprocessor.features == 128
    assert cfg.decoder.prednet.pred_hidden == 640 and cfg.decoder.prednet.pred_rnn_layers == 2
    assert cfg.joint.jointnet.joint_hidden == 640 and cfg.joint.num_extra_outputs == 5
    assert cfg.tokenizer_train.vocab_size == 1024
    assert enc.use_bias is False and enc.xscaling is False  # the published layout (tests/test_model_layout.py)
    durations = [0, 1, 2, 3, 4]
    assert list(cfg.decoding.durations) == list(cfg.loss.tdt_kwargs.durations) == durations
    assert cfg.decoding.model_type == "tdt" and cfg.decoding.strategy == "greedy_batch"
    assert cfg.loss.loss_name == "tdt"
    assert cfg.optim.name == "adamw" and cfg.optim.sched.name == "CosineAnnealing"
    assert cfg.optim.sched.warmup_steps > 0


def test_tiny_configs_are_the_same_family():
    tiny, big = load_model_config("tiny_tdt"), load_model_config("tiny_tdt_5m")
    assert tiny.encoder.n_layers == 2 and 96 <= tiny.encoder.d_model <= 128
    assert (big.encoder.n_layers, big.encoder.d_model, big.encoder.n_heads, big.preprocessor.features) == (
        6, 176, 4, 80)
    assert big.model_defaults.pred_hidden == big.model_defaults.joint_hidden == 160
    assert big.tokenizer_train.vocab_size == 128 and big.tokenizer_train.model_type == "unigram"
    parakeet = load_model_config("parakeet_tdt_0.6b_v2")
    for cfg in (tiny, big):  # same structure as Parakeet: only values differ
        assert set(cfg.keys()) == set(parakeet.keys())
        assert set(cfg.encoder.keys()) == set(parakeet.encoder.keys())
        assert cfg.encoder.subsampling == "dw_striding" and cfg.loss.loss_name == "tdt"
        assert cfg.joint.num_extra_outputs == len(cfg.loss.tdt_kwargs.durations) == 5
    # sizes are plain keys: a sweep override changes them and the interpolations follow
    swept = load_model_config("tiny_tdt", ["model.encoder.d_model=96", "model.model_defaults.pred_hidden=64"])
    assert swept.model_defaults.enc_hidden == 96 and swept.decoder.prednet.pred_hidden == 64


def _flat(node, prefix=""):
    out = {}
    for k, v in node.items():
        out.update(_flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def test_model_configs_are_size_overlays_of_one_base():
    """parakeet_tdt_0.6b_v2 and tiny_tdt are the base (fastconformer_tdt) plus only the keys their files set."""
    import yaml

    from finparakeet.conf import CONF_DIR

    base = _flat(OmegaConf.to_container(load_model_config("fastconformer_tdt")))
    for name in ("parakeet_tdt_0.6b_v2", "tiny_tdt"):
        composed = _flat(OmegaConf.to_container(load_model_config(name)))
        written = yaml.safe_load((CONF_DIR / "model" / f"{name}.yaml").read_text())
        assert written["defaults"] == ["fastconformer_tdt", "_self_"]
        written = _flat({k: v for k, v in written.items() if k != "defaults"})
        assert set(composed) == set(base)  # an overlay adds no key
        assert {k for k in base if composed[k] != base[k]} <= set(written)
        assert all(composed[k] == v for k, v in written.items())
    assert len(written) < len(base) / 3  # tiny_tdt: an overlay, not a copy


def test_data_keys_come_from_outside():
    root = OmegaConf.create({"data": {"tokenizer_dir": "/tok", "train_ds": {"cuts_path": "x.jsonl.gz"}}})
    root.model = load_model_config("tiny_tdt")
    assert root.model.tokenizer.dir == "/tok" and root.model.train_ds.cuts_path == "x.jsonl.gz"
    assert root.model.validation_ds is None
    assert load_model_config("tiny_tdt").tokenizer.dir is None


# ---- building and CPU training --------------------------------------------------------------------------------


def test_build_needs_a_tokenizer(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_tokenizer"):
        build_model(load_model_config("tiny_tdt", [f"model.tokenizer.dir={tmp_path}"]))


def test_tiny_model_trains_on_cpu_with_our_tdt_loss(tok_dir, batch):
    from finparakeet.models.step import transducer_loss
    from finparakeet.models.tdt_loss import DeviceDispatchTDTLoss

    torch.manual_seed(0)
    model = build_model(tiny_cfg(tok_dir, "model.loss.tdt_kwargs.omega=0.0", "model.spec_augment.time_masks=0",
                                 "model.spec_augment.freq_masks=0"))
    trainable, total = count_parameters(model)
    assert trainable == total and 0.8e6 < total < 1.5e6
    assert type(model.encoder).__name__ == "ConformerEncoderAdapter"
    assert isinstance(model.loss._loss, DeviceDispatchTDTLoss)
    assert model.cfg.loss.loss_name == "tdt"  # the joint still sizes 5 duration outputs
    assert model.joint.num_extra_outputs == 5

    audio, lens = batch
    tgt, tl = targets(model)

    def eval_loss():
        model.eval()
        with torch.no_grad():
            return transducer_loss(model, audio.clone(), lens, tgt, tl).item()

    before = eval_loss()
    train_steps(model, batch, steps=8, lr=3e-3)
    assert all(p.grad is not None for p in model.encoder.parameters() if p.requires_grad)
    after = eval_loss()
    assert after < before - 0.2, (before, after)


def test_aux_ctc_section_builds_the_hybrid_tdt_ctc_model(tok_dir, batch):
    from finparakeet.models.tdt_loss import DeviceDispatchTDTLoss

    ctc = ["+model.aux_ctc.ctc_loss_weight=0.3", "+model.aux_ctc.decoder._target_=nemo.collections.asr.modules."
           "ConvASRDecoder", "+model.aux_ctc.decoder.feat_in=128", "+model.aux_ctc.decoder.num_classes=-1",
           "+model.aux_ctc.decoder.vocabulary=[]", "+model.aux_ctc.decoding.strategy=greedy_batch"]
    model = build_model(tiny_cfg(tok_dir, *ctc))
    assert type(model).__name__ == "EncDecHybridRNNTCTCBPEModel" and model.ctc_loss_weight == 0.3
    assert isinstance(model.loss._loss, DeviceDispatchTDTLoss)  # the TDT half still trains with our CPU loss
    assert model.ctc_decoder.decoder_layers[0].out_channels == model.tokenizer.vocab_size + 1  # + CTC blank
    audio, lens = batch
    tgt, tl = targets(model)
    model.train()
    enc, enc_len = model.forward(input_signal=audio.clone(), input_signal_length=lens)
    log_probs = model.ctc_decoder(encoder_output=enc)
    assert log_probs.shape == (3, enc.shape[-1], 129)
    loss = model.ctc_loss(log_probs=log_probs, targets=tgt, input_lengths=enc_len, target_lengths=tl)
    loss.backward()
    assert torch.isfinite(loss) and model.ctc_decoder.decoder_layers[0].weight.grad.abs().sum() > 0


# ---- adapters --------------------------------------------------------------------------------------------------


def expected_adapter_params(kind, d=128, pred=128, joint=128, dim=32, layers=2):
    linear = lambda n: 2 * n + 2 * n * dim  # LayerNorm + two bias-free projections  # noqa: E731
    if kind == "linear":
        return layers * linear(d)
    if kind == "linear_all":
        return layers * linear(d) + linear(pred) + linear(joint)
    if kind == "mha":  # pre-norm, q/k/v/out with biases, pos projection, two position biases
        return layers * (2 * d + 3 * (d * dim + dim) + dim * d + d + d * dim + 2 * dim)
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["linear", "linear_all", "mha"])
def test_adapters_train_alone_disable_exactly_and_round_trip(kind, tok_dir, batch, tmp_path):
    from finparakeet.models.adapters import add_adapters, load_adapters, save_adapters, set_adapters_enabled

    torch.manual_seed(0)
    model = build_model(tiny_cfg(tok_dir))
    base_state = {k: v.clone() for k, v in model.state_dict().items()}
    base_out = joint_out(model, batch)

    summary = add_adapters(model, load_adapter_config(kind), verbose=False)
    assert summary.trainable == expected_adapter_params(kind)
    assert summary.total == sum(p.numel() for p in model.parameters())
    assert all(":" in n for n in summary.names) and len(summary.names) == (3 if kind == "linear_all" else 1)
    for name, p in model.named_parameters():
        assert p.requires_grad == ("adapter_layer" in name), name
    torch.testing.assert_close(joint_out(model, batch), base_out)  # adapters start as the identity

    train_steps(model, batch)
    changed = {k for k, v in model.state_dict().items() if k not in base_state or not torch.equal(v, base_state[k])}
    assert changed and all("adapter_layer" in k for k in changed)  # base weights and BN statistics untouched
    adapted = joint_out(model, batch)
    assert not torch.equal(adapted, base_out)

    set_adapters_enabled(model, False)
    assert torch.equal(joint_out(model, batch), base_out)  # exactly the base model
    set_adapters_enabled(model, True)
    assert torch.equal(joint_out(model, batch), adapted)

    path = save_adapters(model, tmp_path / "adapters.pt")
    assert path.stat().st_size < 1_000_000
    fresh = build_model(tiny_cfg(tok_dir))
    fresh.load_state_dict(base_state)
    assert sorted(load_adapters(fresh, path)) == sorted(summary.names)
    assert torch.equal(joint_out(fresh, batch), adapted)


def test_full_finetuning_baseline(tok_dir):
    from finparakeet.models.adapters import add_adapters

    model = build_model(tiny_cfg(tok_dir))
    model.freeze()
    summary = add_adapters(model, load_adapter_config("none"), verbose=False)
    assert summary.names == [] and summary.trainable == summary.total == count_parameters(model)[1]
    assert "adapters" not in model.cfg


def test_adapter_keys_are_sweepable_and_names_checked(tok_dir):
    from finparakeet.models.adapters import add_adapters

    model = build_model(tiny_cfg(tok_dir))
    small = add_adapters(model, load_adapter_config("linear", ["adapter.dim=16"]), verbose=False)
    assert small.trainable == expected_adapter_params("linear", dim=16)
    with pytest.raises(ValueError, match="substring"):  # "in_enc" would also match "fin_enc" when saving/loading
        add_adapters(model, load_adapter_config("mha", ["adapter.name=in"]), verbose=False)
    with pytest.raises(ValueError, match="already exist"):
        add_adapters(model, load_adapter_config("linear"), verbose=False)
    from finparakeet.models.adapters import _check_names

    with pytest.raises(ValueError, match="parameter names"):  # "od" would select every "module.*" weight
        _check_names(["od"])
    with pytest.raises(ValueError, match="encoder only"):
        add_adapters(build_model(tiny_cfg(tok_dir)), load_adapter_config("mha", ["adapter.modules=[decoder]"]),
                     verbose=False)


def test_adapter_file_loads_weights_only_via_allowlist(tok_dir, batch, tmp_path):
    import pickle

    from finparakeet.models.adapters import add_adapters, load_adapters, save_adapters

    model = build_model(tiny_cfg(tok_dir))
    add_adapters(model, load_adapter_config("linear_all"), verbose=False)
    train_steps(model, batch, steps=1)
    path = save_adapters(model, tmp_path / "a.pt")
    with pytest.raises(pickle.UnpicklingError):  # torch's default weights_only load rejects the config
        torch.load(path)
    assert DictConfig not in torch.serialization.get_safe_globals()  # the allow-list is scoped, not global
    adapted = joint_out(model, batch)
    # Loading into a model that already has these adapters overwrites their weights.
    other = build_model(tiny_cfg(tok_dir))
    other.load_state_dict({k: v for k, v in model.state_dict().items() if "adapter_layer" not in k}, strict=False)
    add_adapters(other, load_adapter_config("linear_all"), verbose=False)
    assert not torch.equal(joint_out(other, batch), adapted)
    load_adapters(other, path)
    assert torch.equal(joint_out(other, batch), adapted)


def test_nemo_export_restores_with_adapters(tok_dir, batch, tmp_path):
    from finparakeet.models.adapters import add_adapters
    from nemo.collections.asr.models import ASRModel

    model = build_model(tiny_cfg(tok_dir))
    add_adapters(model, load_adapter_config("linear"), verbose=False)
    train_steps(model, batch, steps=1)
    out = joint_out(model, batch)
    nemo = tmp_path / "tiny.nemo"
    model.save_to(str(nemo))
    restored = load_pretrained(nemo_path=nemo, map_location="cpu")
    assert restored.get_enabled_adapters() == model.get_enabled_adapters()
    assert torch.equal(joint_out(restored, batch), out)
    plain = ASRModel.restore_from(str(nemo), map_location="cpu")  # what NeMo's transcribe_speech.py does
    assert torch.equal(joint_out(plain, batch), out)


def test_plain_checkpoint_is_restored_adapter_capable(tok_dir, batch, tmp_path):
    """Like the real Parakeet .nemo: saved with a plain ConformerEncoder, which cannot take adapters."""
    from finparakeet.models.adapters import add_adapters
    from nemo.collections.asr.models import EncDecRNNTBPEModel

    plain = EncDecRNNTBPEModel(cfg=loading._nemo_config(tiny_cfg(tok_dir)))
    assert type(plain.encoder).__name__ == "ConformerEncoder"
    out = joint_out(plain, batch)
    nemo = tmp_path / "plain.nemo"
    plain.save_to(str(nemo))
    restored = load_pretrained(nemo_path=nemo, map_location="cpu")
    assert type(restored.encoder).__name__ == "ConformerEncoderAdapter"
    assert torch.equal(joint_out(restored, batch), out)  # every weight loaded into the adapter class
    assert add_adapters(restored, load_adapter_config("linear"), verbose=False).trainable > 0


# ---- pretrained loading offline -------------------------------------------------------------------------------


def test_offline_hub_name_fails_at_once_with_instructions(monkeypatch):
    monkeypatch.setattr(loading, "_cached_hub_file", lambda name: None)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(PretrainedUnavailableError, match=r"model\.nemo_path=/path/to/parakeet-tdt-0\.6b-v2\.nemo"):
        load_pretrained("nvidia/parakeet-tdt-0.6b-v2")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(loading, "hub_reachable", lambda host, timeout: False)
    with pytest.raises(PretrainedUnavailableError, match="not reachable"):
        load_or_build(load_model_config("parakeet_tdt_0.6b_v2"))  # the config names the hub model


def test_missing_nemo_path_is_reported():
    with pytest.raises(FileNotFoundError, match="nemo_path"):
        load_or_build(load_model_config("parakeet_tdt_0.6b_v2", ["model.nemo_path=/nonexistent/x.nemo"]))


def test_hub_probe_gives_up_after_its_timeout(monkeypatch):
    import time
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: time.sleep(5))  # a hanging network
    start = time.monotonic()
    assert loading.hub_reachable("huggingface.co", timeout=0.3) is False
    assert time.monotonic() - start < 1.5
