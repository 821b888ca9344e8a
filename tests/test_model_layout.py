"""The 0.6B model config builds the published Parakeet-TDT-0.6B layout, key for key.

The fixture ``fixtures/parakeet_tdt_0.6b_layout.json`` lists the 725 tensors of the public checkpoint's
``model_weights.ckpt`` (names and shapes; its ``source`` says where they were read). Key names are a function of the
module structure alone (layer count, biases, subsampling type, LSTM layers, norm type, untied attention biases), not
of the widths: the fast test builds the 0.6B config with every width shrunk and compares names; the slow one builds
the real size once (~2.5 GB of random weights) and compares shapes too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finparakeet.models.loading import build_model, load_model_config
from finparakeet.models.tokenizer import train_tokenizer

LAYOUT = json.loads((Path(__file__).parent / "fixtures" / "parakeet_tdt_0.6b_layout.json").read_text())
PUBLISHED = {name: shape for name, shape in LAYOUT["tensors"]}
SENTENCES = ["Revenue rose 12.5% to $4.2 billion in the third quarter.", "Apple and Microsoft beat estimates.",
             "Gross margin fell 50 bps, the CFO said.", "NVIDIA guided fiscal 2025 EBITDA higher."] * 20
# Every width of the 0.6B config, shrunk; the structure (what names the tensors) is left alone.
SHRUNK = ["model.encoder.d_model=64", "model.encoder.subsampling_conv_channels=16", "model.preprocessor.features=32",
          "model.model_defaults.pred_hidden=32", "model.model_defaults.joint_hidden=32"]


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    return train_tokenizer(SENTENCES, tmp_path_factory.mktemp("tok") / "spe", vocab_size=128)


def _vocab(tok_dir) -> int:
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=str(tok_dir / "tokenizer.model")).get_piece_size()


def test_fixture_is_the_published_count():
    assert len(PUBLISHED) == 725 == len(LAYOUT["tensors"])  # "Loaded 725 tensors"
    per_layer = [n for n in PUBLISHED if n.startswith("encoder.layers.0.")]
    assert len(per_layer) == 29 and not any(n.endswith(".bias") and ("linear" in n or "conv.point" in n)
                                            for n in per_layer)


def test_shrunk_06b_config_has_the_published_key_names(tok_dir):
    model = build_model(load_model_config("parakeet_tdt_0.6b_v2", [f"model.tokenizer.dir={tok_dir}", *SHRUNK]))
    keys = set(model.state_dict())
    assert keys - set(PUBLISHED) == set(), "tensors the published checkpoint does not have"
    assert set(PUBLISHED) - keys == set(), "published tensors the config does not build"


def test_biases_would_break_the_layout(tok_dir):
    """The test can fail: the old config (encoder.use_bias=true) adds 11 bias tensors per layer (8 Linear, 3 Conv1d)."""
    model = build_model(load_model_config("parakeet_tdt_0.6b_v2",
                                          [f"model.tokenizer.dir={tok_dir}", *SHRUNK, "model.encoder.use_bias=true"]))
    extra = set(model.state_dict()) - set(PUBLISHED)
    assert len(extra) == 24 * 11 and "encoder.layers.0.feed_forward1.linear1.bias" in extra


@pytest.mark.slow
def test_full_size_06b_matches_published_names_and_shapes(tok_dir):
    v = _vocab(tok_dir)
    model = build_model(load_model_config("parakeet_tdt_0.6b_v2", [f"model.tokenizer.dir={tok_dir}"]))
    state = {k: [d for d in t.shape if d != 1] for k, t in model.state_dict().items()}  # the dump drops size-1 dims
    assert set(state) == set(PUBLISHED)
    sizes = {"V+1": v + 1, "V+1+5": v + 1 + 5}
    expected = {k: [sizes.get(d, d) for d in s] for k, s in PUBLISHED.items()}
    wrong = {k: (state[k], expected[k]) for k in PUBLISHED if state[k] != expected[k]}
    assert wrong == {}
    assert sum(t.numel() for t in model.parameters()) > 600_000_000
