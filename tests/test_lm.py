"""The text-only finance LM: recipes/build_lm.py with KenLM's real lmplz (ARPA header and counts, token ids offset
by 100, the record), and decoding with it through the transcribe pipeline on the tiny trained model (NeMo's NGPU-LM
fusion changes the output, weight 0 changes nothing), with the clear errors: lmplz not built, a strategy that does
not fuse an LM, an LM of another tokenizer."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fixtures_inference import ROOT
from finparakeet.lm.build import build_lm
from finparakeet.lm.corpus import Corpus, read_corpus, split_sentences
from finparakeet.lm.kenlm import LmplzMissingError, LmplzParams, arpa_counts, find_lmplz
from finparakeet.lm.record import TokenizerMismatchError, read_record, record_path
from finparakeet.lm.tokens import TOKEN_OFFSET, load_tokenizer, read_arpa_unigram_ids
from finparakeet.models.tokenizer import train_tokenizer

try:
    LMPLZ = find_lmplz()
except LmplzMissingError as e:
    LMPLZ, WHY = None, str(e)
needs_lmplz = pytest.mark.skipif(LMPLZ is None, reason="KenLM's lmplz is not built: run `make kenlm`")
slow = pytest.mark.slow

# A few dozen finance sentences as the model writes them: cased, punctuated, digits.
COMPANIES = ["Apple", "NVIDIA", "Tesla"]
FINANCE = [f"{c} raised its {what} for Q{q}." for c in COMPANIES for q in (1, 2, 3, 4)
           for what in ("dividend", "guidance")] + \
          [f"Free cash flow was ${n}.{n + 1} billion, and EBITDA grew {n}%." for n in range(2, 9)] + \
          ["Revenue rose 12% to $4.2 billion.", "The dividend stays at $0.25 per share.",
           "Guidance for fiscal 2024 is unchanged.", "EBITDA margin was 31.5% in the quarter."]


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> Path:
    return train_tokenizer(FINANCE * 3, tmp_path_factory.mktemp("tok") / "tokenizer", vocab_size=96)


def build_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "recipes/build_lm.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


# ---- corpus --------------------------------------------------------------------------------------------------------


def test_sources_are_read_as_written(tmp_path):
    text = _write(tmp_path / "t.txt", ["  Revenue rose   12%. ", "", "EBITDA was $4.2 billion."])
    manifest = _write(tmp_path / "m.json", [json.dumps({"audio_filepath": "a.wav", "text": "Q3 guidance, raised."}),
                                            "{not json", json.dumps({"audio_filepath": "b.wav"})])
    corpus = read_corpus([str(text)], [str(manifest)])
    assert corpus.lines == ["Revenue rose 12%.", "EBITDA was $4.2 billion.", "Q3 guidance, raised."]
    assert [(s.kind, s.lines, s.skipped) for s in corpus.sources] == [("text", 2, 0), ("manifest", 1, 2)]
    assert split_sentences("Revenue was $4.2 billion. Margins rose 3.5%! Why? Monro Inc. and  Q3  were strong.") == \
        ["Revenue was $4.2 billion.", "Margins rose 3.5%!", "Why?", "Monro Inc. and Q3 were strong."]
    with pytest.raises(ValueError, match="no text"):
        read_corpus([], [])


# ---- building ------------------------------------------------------------------------------------------------------


@needs_lmplz
def test_build_lm_writes_an_arpa_over_offset_token_ids(tokenizer_dir, tmp_path):
    text = _write(tmp_path / "finance.txt", FINANCE)
    arpa = tmp_path / "lm" / "finance.arpa"
    start = time.perf_counter()
    run = build_cli(f"tokenizer_dir={tokenizer_dir}", f"text_files=[{text}]", f"output_filename={arpa}", "order=3",
                    "memory=50M")
    print(f"build_lm (recipe, {len(FINANCE)} sentences): {time.perf_counter() - start:.1f} s")
    assert run.returncode == 0, run.stderr[-3000:]
    header = arpa.read_text(encoding="utf-8").splitlines()[:5]
    counts = arpa_counts(arpa)
    assert header[0] == "\\data\\" and sorted(counts) == [1, 2, 3] and all(n > 0 for n in counts.values())
    assert header[1:4] == [f"ngram {n}={counts[n]}" for n in (1, 2, 3)]

    # Unigrams are the corpus' tokens written as chr(id + 100): exactly the ids the tokenizer gives the text.
    sp, info = load_tokenizer(tokenizer_dir=tokenizer_dir)
    used = {i for line in FINANCE for i in sp.encode(line)}
    unigram_ids = read_arpa_unigram_ids(arpa)
    assert set(unigram_ids) == used and min(used) >= 1  # 0 is <unk>: never taught
    arpa_text = arpa.read_text(encoding="utf-8")
    piece = sp.piece_to_id("▁dividend") if sp.piece_to_id("▁dividend") != sp.unk_id() else sp.encode("dividend")[0]
    assert f"\t{chr(piece + TOKEN_OFFSET)}\t" in arpa_text or f"\t{chr(piece + TOKEN_OFFSET)}\n" in arpa_text
    for special in ("<s>", "</s>", "<unk>"):
        assert f"\t{special}" in arpa_text

    record = read_record(arpa)
    assert record is not None and record_path(arpa).is_file()
    assert record.ngram_counts == counts and record.order == 3 and record.token_offset == TOKEN_OFFSET
    assert record.lines == len(FINANCE) and record.tokens == sum(len(sp.encode(x)) for x in FINANCE)
    assert record.tokenizer == info.to_dict() and record.discount_fallback
    assert record.command[:3] == [str(LMPLZ), "-o", "3"] and "--discount_fallback" in record.command
    assert record.sources == [{"kind": "text", "path": str(text), "lines": len(FINANCE), "skipped": 0}]


@needs_lmplz
def test_lmplz_prune_and_its_errors(tokenizer_dir, tmp_path):
    sp, info = load_tokenizer(tokenizer_dir=tokenizer_dir)
    corpus = Corpus(FINANCE)
    full = build_lm(corpus, sp, info, tmp_path / "full.arpa", LmplzParams(order=3, memory="50M"))
    pruned = build_lm(corpus, sp, info, tmp_path / "pruned.arpa", LmplzParams(order=3, prune=(0, 0, 1),
                                                                              memory="50M"))
    assert pruned.ngram_counts[3] < full.ngram_counts[3] and pruned.prune == [0, 0, 1]
    with pytest.raises(ValueError, match="first 0"):
        LmplzParams(order=3, prune=(1, 1))
    with pytest.raises(ValueError, match="order must be"):
        LmplzParams(order=9)
    # Without the fallback lmplz cannot estimate discounts on so little text: its message, and the key to set.
    with pytest.raises(RuntimeError, match="discount_fallback=true"):
        build_lm(corpus, sp, info, tmp_path / "nofallback.arpa", LmplzParams(order=3, discount_fallback=False,
                                                                             memory="50M"))
    assert not (tmp_path / "nofallback.arpa").exists()


def test_missing_lmplz_is_named_with_the_command_that_builds_it(tokenizer_dir, tmp_path):
    text = _write(tmp_path / "finance.txt", FINANCE)
    run = build_cli(f"tokenizer_dir={tokenizer_dir}", f"text_files=[{text}]",
                    f"output_filename={tmp_path / 'x.arpa'}", f"lmplz={tmp_path / 'no' / 'lmplz'}")
    assert run.returncode != 0 and "make kenlm" in run.stderr and "scripts/build_kenlm.sh" in run.stderr
    assert not (tmp_path / "x.arpa").exists()
    sp, info = load_tokenizer(tokenizer_dir=tokenizer_dir)
    with pytest.raises(LmplzMissingError, match="make kenlm"):
        build_lm(Corpus(FINANCE), sp, info, tmp_path / "y.arpa", lmplz=str(tmp_path / "missing"))


def test_tokenizer_source_is_exactly_one(tokenizer_dir):
    with pytest.raises(ValueError, match="exactly one"):
        load_tokenizer()
    with pytest.raises(FileNotFoundError):
        load_tokenizer(tokenizer_dir=str(tokenizer_dir.parent / "nothing"))


# ---- decoding ------------------------------------------------------------------------------------------------------


def test_a_strategy_without_fusion_is_refused_before_any_model_loads(tmp_path):
    from finparakeet.inference.pipeline import transcribe

    arpa = _write(tmp_path / "any.arpa", ["\\data\\"])
    for strategy in ("greedy", "beam"):
        with pytest.raises(ValueError, match="greedy_batch, malsd_batch"):
            transcribe({"model_path": str(tmp_path / "none.nemo"), "dataset_manifest": str(tmp_path / "none.json"),
                        "rnnt_decoding": {"strategy": strategy}, "lm": {"ngram_lm_model": str(arpa)}})
    with pytest.raises(FileNotFoundError, match="recipes/build_lm.py"):
        transcribe({"model_path": "m.nemo", "dataset_manifest": "x.json", "lm": {"ngram_lm_model": "no.arpa"}})
    with pytest.raises(ValueError, match="unknown lm key"):
        transcribe({"model_path": "m.nemo", "dataset_manifest": "x.json", "lm": {"alpha": 1.0}})
    # the recipe: lm=finance names the key it needs (a merge would otherwise keep none's null and decode without)
    run = subprocess.run([sys.executable, "recipes/transcribe.py", "model_path=m.nemo", "dataset_manifest=x.json",
                          "lm=finance"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "lm.ngram_lm_model=" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "recipes/transcribe.py", "model_path=m.nemo", "dataset_manifest=x.json",
                          "lm=finance", f"lm.ngram_lm_model={arpa}", "rnnt_decoding.strategy=greedy"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "greedy_batch, malsd_batch" in run.stderr


@pytest.fixture(scope="module")
def model(world):
    from finparakeet.inference.pipeline import load_model

    return load_model(str(world.base_nemo))


@pytest.fixture(scope="module")
def world_lm(world, tmp_path_factory) -> Path:
    """An LM of the tiny model's own tokenizer, over finance text that favours some of its eight terms."""
    out = tmp_path_factory.mktemp("world_lm")
    sp, info = load_tokenizer(model_path=world.base_nemo)
    lines = ["dividend"] * 30 + ["free cash flow"] * 20 + ["Tesla revenue"] * 10 + FINANCE
    start = time.perf_counter()
    build_lm(Corpus(lines), sp, info, out / "world.arpa", LmplzParams(order=3, memory="50M"))
    print(f"build_lm (library, {len(lines)} lines): {time.perf_counter() - start:.2f} s")
    return out / "world.arpa"


def decode(model, world, out: Path, **cfg):
    from finparakeet.inference.pipeline import transcribe

    start = time.perf_counter()
    result = transcribe({"model_path": "unused.nemo", "progress": False, "dataset_manifest": str(world.eval_manifest),
                         "output_filename": str(out), **cfg}, model=model)
    return [r["pred_text"] for r in result.rows], time.perf_counter() - start, result


@slow
@needs_lmplz
def test_decoding_with_the_lm_changes_the_output(world, model, world_lm, tmp_path):
    from finparakeet.lm.tokens import model_tokenizer_info

    # The .nemo's tokenizer read without NeMo is the loaded model's tokenizer, and the stored tokenizer dir's.
    assert load_tokenizer(model_path=world.base_nemo)[1].sha256 == model_tokenizer_info(model).sha256 == \
        load_tokenizer(tokenizer_dir=world.root / "tokenizer")[1].sha256

    plain, t_plain, _ = decode(model, world, tmp_path / "plain.json")
    zero, t_zero, _ = decode(model, world, tmp_path / "zero.json",
                             lm={"ngram_lm_model": str(world_lm), "ngram_lm_alpha": 0.0})
    heavy, t_heavy, result = decode(model, world, tmp_path / "heavy.json",
                                    lm={"ngram_lm_model": str(world_lm), "ngram_lm_alpha": 4.0})
    print(f"decode {len(plain)} utterances: no LM {t_plain:.2f} s, LM alpha 0 {t_zero:.2f} s, "
          f"LM alpha 4 {t_heavy:.2f} s")
    assert zero == plain  # weight 0: the fused decoder gives the model's own output
    changed = [(p, h) for p, h in zip(plain, heavy) if p != h]
    assert changed, "a heavy LM weight changed nothing: the LM is not fused"
    # The LM favours "dividend": with it the model writes that more often than without.
    assert sum(h == "dividend" for h in heavy) > sum(p == "dividend" for p in plain)
    assert result.lm is not None and "n-gram LM" in "\n".join(result.summary_lines())
    summary = json.loads((tmp_path / "heavy.summary.json").read_text())
    assert summary["lm"] == {"model": str(world_lm), "alpha": 4.0}
    # The NeMo decoding config the model now carries is NeMo's own keys.
    assert model.cfg.decoding.greedy.ngram_lm_model == str(world_lm)

    beam, t_beam, _ = decode(model, world, tmp_path / "beam.json", rnnt_decoding={"strategy": "malsd_batch",
                             "beam": {"beam_size": 2}}, lm={"ngram_lm_model": str(world_lm), "ngram_lm_alpha": 4.0})
    print(f"malsd_batch beam 2 with the LM: {t_beam:.2f} s")
    assert len(beam) == len(plain) and any(b != p for b, p in zip(beam, plain))
    # the next decode without an LM drops it from the model's config again
    again, _, _ = decode(model, world, tmp_path / "again.json")
    assert again == plain and model.cfg.decoding.greedy.get("ngram_lm_model") is None


@slow
@needs_lmplz
def test_an_lm_of_another_tokenizer_is_refused(world, model, tokenizer_dir, tmp_path):
    from finparakeet.inference.pipeline import transcribe

    sp, info = load_tokenizer(tokenizer_dir=tokenizer_dir)
    arpa = tmp_path / "other.arpa"
    build_lm(Corpus(FINANCE), sp, info, arpa, LmplzParams(order=3, memory="50M"))
    cfg = {"model_path": "unused.nemo", "progress": False, "dataset_manifest": str(world.eval_manifest),
           "output_filename": str(tmp_path / "out.json"), "lm": {"ngram_lm_model": str(arpa), "ngram_lm_alpha": 1.0}}
    with pytest.raises(TokenizerMismatchError, match="another tokenizer"):
        transcribe(cfg, model=model)
    # Without its record, an LM whose token ids run past the model's vocabulary is refused too.
    vocab = int(model.tokenizer.vocab_size)
    big_dir = train_tokenizer(FINANCE * 3 + [f"Ticker {c}{d} closed at {d}.{c}" for c in "ABCDEFGH" for d in range(9)],
                              tmp_path / "big", vocab_size=vocab + 120)
    sp, info = load_tokenizer(tokenizer_dir=big_dir)
    lines = [f"Ticker {c}{d} closed at {d}.{c}" for c in "ABCDEFGH" for d in range(9)] + FINANCE
    build_lm(Corpus(lines), sp, info, arpa, LmplzParams(order=3, memory="50M"))
    record_path(arpa).unlink()
    assert max(read_arpa_unigram_ids(arpa)) >= vocab  # the precondition of this check
    with pytest.raises(TokenizerMismatchError, match="outside the model's"):
        transcribe(cfg, model=model)


@slow
@needs_lmplz
def test_validation_in_training_decodes_with_the_lm(world, world_lm, synth_dir, tmp_path):
    """Two identical 1-step runs from the tiny model, one validating with a heavy LM: only the validation
    transcripts differ (training never decodes here), and the saved .nemo names no LM file."""
    import tarfile

    import yaml

    from conftest import run_train

    def run(name: str, *lm: str) -> list[str]:
        run_dir = tmp_path / name
        proc = run_train(["+experiment=finance_calls", f"model.nemo_path={world.base_nemo}", "trainer=cpu",
                          "trainer.max_steps=1", "trainer.val_check_interval=1", "trainer.enable_progress_bar=false",
                          "trainer.log_every_n_steps=1000", "data.num_workers=0", "num_threads=1",
                          f"data.train_cuts={synth_dir / 'train_cuts.jsonl.gz'}",
                          f"data.validation_cuts={synth_dir / 'dev_cuts.jsonl.gz'}", f"hydra.run.dir={run_dir}", *lm])
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert ("validation decodes with the n-gram LM" in proc.stdout) == bool(lm)
        with tarfile.open(run_dir / "artifacts" / "model.nemo") as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("model_config.yaml"))
            decoding = yaml.safe_load(tar.extractfile(member).read())["decoding"]
        assert not decoding["greedy"].get("ngram_lm_model") and not decoding["beam"].get("ngram_lm_model")
        preds = (run_dir / "reports").glob("epoch_*/predictions.jsonl")
        return [json.loads(line)["pred_text"] for p in sorted(preds) for line in p.read_text().splitlines()]

    plain = run("plain")
    fused = run("fused", "lm=finance", f"lm.ngram_lm_model={world_lm}", "lm.ngram_lm_alpha=4.0")
    assert plain and len(fused) == len(plain) and fused != plain
