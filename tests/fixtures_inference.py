"""A small trained world for the inference tests: a tiny TDT model that knows eight finance terms, a training run
directory with adapters, evaluation audio in other voices and a several-minute recording.

- base model (``base.nemo``): tiny_tdt (~1M parameters) trained from scratch on espeak-ng voices en-us and en-gb
  saying eight finance terms, alone and in runs of two or three with pauses (so it keeps transcribing after a term);
- run directory (``run/``, the training recipe's contract): the base plus LinearAdapters trained on another voice,
  ``artifacts/{model.nemo,adapters.pt,run.json}``;
- ``eval.json``: the terms in six voices the model never heard — it gets most of them; its misses are near misses
  ("Tesla" heard as "Apple"), the material for phrase boosting;
- ``long.wav`` / ``long.json``: ~3.5 minutes of training-voice terms with pauses, made with sox, one reference.

Built once and cached under pytest's cache folder, keyed by a hash of this file, the model code and the library
versions (a cold build takes about a minute on two cores). ``FINPARAKEET_TEST_WORLD=/path`` builds or reuses it there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
SR = 16000
TERMS = [("Apple", "Apple"), ("NVIDIA", "N video"), ("Tesla", "Tesla"), ("revenue", "revenue"),
         ("guidance", "guidance"), ("EBITDA", "E B I T D eh"), ("dividend", "dividend"),
         ("free cash flow", "free cash flow")]
RATE = 200
TRAIN_VOICES = (("en-us", "", 50), ("en-gb", "", 50))
ADAPT_VOICE = ("en-029", "", 50)
# (language, variant, pitch[, rate]): voices the model never heard, a few of them fast; it misses some terms.
EVAL_VOICES = (("en-gb-x-rp", "f3", 50), ("en-us", "klatt", 50), ("en-us-nyc", "m6", 50), ("en-gb-x-gbcwmd", "f1", 50),
               ("en-us", "", 30, 260), ("en-gb-scotland", "m2", 70, 220))
BASE_STEPS, ADAPT_STEPS, BATCH, LR = 300, 60, 8, 3e-3
LONG_ROUNDS, LONG_PAUSE = 24, 0.5
KEY_FILES = ("tests/fixtures_inference.py", "finparakeet/models/step.py", "finparakeet/models/tdt_loss.py",
             "finparakeet/models/loading.py", "finparakeet/models/adapters.py", "finparakeet/models/tokenizer.py",
             "finparakeet/synth/tts.py", "conf/model/tiny_tdt.yaml", "conf/adapter/linear.yaml")


@dataclass(frozen=True)
class World:
    root: Path

    @property
    def base_nemo(self) -> Path:
        return self.root / "base.nemo"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def run_nemo(self) -> Path:
        return self.root / "run" / "artifacts" / "model.nemo"

    @property
    def adapters(self) -> Path:
        return self.root / "run" / "artifacts" / "adapters.pt"

    @property
    def eval_manifest(self) -> Path:
        return self.root / "eval.json"

    @property
    def long_manifest(self) -> Path:
        return self.root / "long.json"

    @property
    def long_wav(self) -> Path:
        return self.root / "long.wav"

    def eval_rows(self) -> list[dict]:
        return [json.loads(line) for line in self.eval_manifest.read_text().splitlines()]

    @property
    def terms(self) -> list[str]:
        return [w for w, _ in TERMS]


def _key() -> str:
    import lhotse
    import nemo
    import torch

    h = hashlib.sha1()
    for rel in KEY_FILES:
        h.update((ROOT / rel).read_bytes())
    h.update(f"{nemo.__version__} {torch.__version__} {lhotse.__version__}".encode())
    return h.hexdigest()[:16]


def _voice(v):
    from finparakeet.synth.tts import Voice

    return Voice(f"{v[0]}+{v[1]}" if v[1] else v[0], v[3] if len(v) > 3 else RATE, v[2])


def _say(text: str, voice) -> np.ndarray:
    from finparakeet.synth.tts import synthesize

    return synthesize(text, _voice(voice))


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), dtype=np.float32)


def _items(voices, rng: random.Random, n_runs: int) -> list[tuple[str, np.ndarray]]:
    """Each term alone in each voice, plus ``n_runs`` runs of 2-3 terms with short pauses (voices alternating)."""
    said = {(w, v): _say(s, v) for v in voices for w, s in TERMS}
    items = [(w, said[(w, v)]) for v in voices for w, _ in TERMS]
    for k in range(n_runs):
        v = voices[k % len(voices)]
        ws = rng.sample([w for w, _ in TERMS], rng.randint(2, 3))
        parts = []
        for w in ws:
            parts += [said[(w, v)], _silence(rng.uniform(0.1, 0.4))]
        items.append((" ".join(ws), np.concatenate(parts[:-1])))
    return items


def _train(model, items, steps: int, seed: int) -> None:
    import torch

    from finparakeet.models.step import tokenize_batch, transducer_loss

    rng = random.Random(seed)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LR)
    model.train()
    for _ in range(steps):
        batch = rng.sample(items, min(BATCH, len(items)))
        lens = torch.tensor([len(a) for _, a in batch])
        sig = torch.zeros(len(batch), int(lens.max()))
        for i, (_, a) in enumerate(batch):
            sig[i, : len(a)] = torch.from_numpy(a)
        tgt, tl = tokenize_batch(model, [t for t, _ in batch])
        loss = transducer_loss(model, sig, lens, tgt, tl)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def _write_wav(path: Path, samples: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, SR, subtype="PCM_16")
    return path


def _build(root: Path) -> None:
    import torch

    from finparakeet.models.adapters import add_adapters, save_adapters
    from finparakeet.models.loading import build_model, load_adapter_config, load_model_config
    from finparakeet.models.tokenizer import train_tokenizer

    torch.manual_seed(0)
    random.seed(0)  # the TDT loss draws its RNN-T/TDT switch (omega) from Python's global generator
    rng = random.Random(0)
    train_items = _items(TRAIN_VOICES, rng, 16)
    tok = train_tokenizer([w for w, _ in TERMS] * 4, root / "tokenizer", vocab_size=128)
    cfg = load_model_config("tiny_tdt", [f"model.tokenizer.dir={tok}"])
    model = build_model(cfg)
    _train(model, train_items, BASE_STEPS, seed=1)
    model.save_to(str(root / "base.nemo"))

    # The run: adapters on the base, trained on a voice the base never heard.
    adapt_items = _items((ADAPT_VOICE,), rng, 8)
    add_adapters(model, load_adapter_config("linear", ["adapter.dim=16"]), verbose=False)
    _train(model, adapt_items, ADAPT_STEPS, seed=2)
    art = root / "run" / "artifacts"
    art.mkdir(parents=True)
    model.save_to(str(art / "model.nemo"))
    save_adapters(model, art / "adapters.pt")
    (art / "run.json").write_text(json.dumps({
        "nemo": "artifacts/model.nemo", "adapters": "artifacts/adapters.pt", "best_checkpoint": None,
        "base": {"pretrained_name": None, "nemo_path": str(root / "base.nemo"), "model_config": "tiny_tdt"},
        "adapter": {"type": "linear", "name": "fin", "modules": ["encoder"], "dim": 16},
        "best_val_entity_wer": None}, indent=1))

    rows = []
    for v in EVAL_VOICES:
        for w, s in TERMS:
            name = "_".join(str(x) for x in v if x != "")
            wav = _write_wav(root / "eval" / f"{name}_{w.replace(' ', '_')}.wav", _say(s, v))
            rows.append({"audio_filepath": str(wav), "duration": round(sf.info(wav).duration, 4), "text": w})
    (root / "eval.json").write_text("".join(json.dumps(r) + "\n" for r in rows))

    # The long recording: sox joins training-voice terms and pauses, as a real long file would be.
    pieces = root / "long_pieces"
    said = {w: _write_wav(pieces / f"{w.replace(' ', '_')}.wav", _say(s, TRAIN_VOICES[0])) for w, s in TERMS}
    pause = _write_wav(pieces / "pause.wav", _silence(LONG_PAUSE))
    order = [w for _ in range(LONG_ROUNDS) for w in rng.sample([w for w, _ in TERMS], len(TERMS))]
    files = [str(f) for w in order for f in (said[w], pause)]
    subprocess.run(["sox", *files, str(root / "long.wav")], check=True, capture_output=True)
    duration = sf.info(root / "long.wav").duration
    (root / "long.json").write_text(json.dumps({"audio_filepath": str(root / "long.wav"), "duration": duration,
                                                "text": " ".join(order)}) + "\n")


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # two test sessions on one machine build it once
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def get_world(cache_dir: Path) -> World:
    """The world under ``cache_dir/<key>``, built there first if needed (atomically, under a lock)."""
    root = Path(os.environ.get("FINPARAKEET_TEST_WORLD") or cache_dir / _key())
    with _locked(root.with_name(root.name + ".lock")):
        if not (root / "DONE").is_file():
            tmp = root.with_name(root.name + ".building")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            _build(tmp)
            (tmp / "DONE").write_text("ok\n")
            shutil.rmtree(root, ignore_errors=True)
            tmp.rename(root)
            _relocate(root, tmp)
    return World(root)


def _relocate(root: Path, old: Path) -> None:
    """Paths written while building point into the temporary folder: point them at the final one."""
    for rel in ("eval.json", "long.json", "run/artifacts/run.json"):
        p = root / rel
        p.write_text(p.read_text().replace(str(old), str(root)))


def world_fixture(request, tmp_path_factory) -> World:
    cache = getattr(request.config, "cache", None)
    base = cache.mkdir("finparakeet_inference") if cache is not None else tmp_path_factory.getbasetemp()
    return get_world(Path(base))


def wer(ref: str, hyp: str) -> float:
    import jiwer

    return jiwer.wer(ref, hyp) if hyp.strip() else 1.0
