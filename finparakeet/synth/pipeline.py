"""Synthetic speech end to end: plan every utterance from the seed, render audio in parallel, write cuts and manifests.

Planning (texts, splits, voices, augmentation choices) runs in one process and draws each utterance's choices from
RNGs keyed by ``(seed, purpose, index)``; workers only render what the plan says. So the same seed gives the same
files whatever the number of workers, and a plan can be inspected or tested without making a sound.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing as mp
import random
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Sequence

import soundfile as sf
from lhotse import CutSet, MonoCut, Recording
from tqdm.auto import tqdm

from finparakeet.data.nemo_manifest import cuts_to_nemo_manifest, row_to_cut, write_nemo_manifest
from finparakeet.entities import EntitySpan
from finparakeet.lexicon import Lexicon, load_lexicon
from finparakeet.synth.augment import AugmentSpec, add_noise, choose_augmentation, sox_effects
from finparakeet.synth.calls import Call, call_pools, group_into_calls, plan_call
from finparakeet.synth.config import SynthConfig
from finparakeet.synth.recordings import write_call_recordings
from finparakeet.synth.general import load_general_sentences
from finparakeet.synth.pools import LexiconPools
from finparakeet.synth.templates import load_templates
from finparakeet.synth.text import FinanceTextGenerator, Utterance
from finparakeet.synth.tts import TTSConfig, Voice, check_tools, choose_voice, synthesize
from finparakeet.synth.verbalize import verbalize

__all__ = ["SPLITS", "CALLS_FILE", "CALL_RECORDINGS_MANIFEST", "UtteranceSpec", "Plan", "split_counts", "plan_utterances", "render", "synthesize_corpus",
           "unseen_share", "write_cuts"]

SPLITS = ("train", "dev", "test")
CALLS_FILE = "calls.jsonl"  # one call's metadata per line (calls.enabled)
CALL_RECORDINGS_MANIFEST = "test_calls_manifest.json"  # each test call as one recording (calls.recordings)


@dataclass(frozen=True)
class UtteranceSpec:
    """Everything needed to render one utterance, decided up front."""

    id: str
    index: int
    split: str
    corpus: str  # "finance" | "general"
    utterance: Utterance
    voice: Voice
    augment: AugmentSpec
    call_id: str | None = None  # the call it belongs to (calls.enabled)


@dataclass(frozen=True)
class Plan:
    specs: tuple[UtteranceSpec, ...]
    heldout_ids: frozenset[str]
    calls: tuple[Call, ...] = ()


def _rng(seed: int, purpose: str, index: int | str = "") -> random.Random:
    # str seeds are hashed with SHA-512 by `random`, so they are stable across runs and machines.
    return random.Random(f"{seed}/{purpose}/{index}")


def split_counts(n: int, fractions: Sequence[float]) -> list[int]:
    """Utterances per split: rounded shares, each non-empty split getting at least one when ``n`` allows."""
    counts = [int(round(n * f)) for f in fractions]
    for i, f in enumerate(fractions):
        if f > 0 and counts[i] == 0 and n >= sum(1 for x in fractions if x > 0):
            counts[i] = 1
    while sum(counts) > n:
        counts[counts.index(max(counts))] -= 1
    counts[0] += n - sum(counts)
    return counts


def _lexicon_unseen(e: EntitySpan, train_ids: set[str]) -> bool:
    return bool(e.source) and not e.source.startswith("pattern:") and e.source not in train_ids


def unseen_share(utterances: Sequence[Utterance], train_ids: set[str]) -> float:
    """Share of the entities of ``utterances`` built from lexicon entries not in ``train_ids``."""
    ents = [e for u in utterances for e in u.entities]
    return sum(_lexicon_unseen(e, train_ids) for e in ents) / len(ents) if ents else 0.0


def _with_seen(u: Utterance, train_ids: set[str]) -> Utterance:
    """Mark each entity with the one definition of "unseen" (``scoring.utterance.lexicon_seen``): an entity built
    from a lexicon entry that no training utterance used is ``seen: false``; pattern entities (numbers, money,
    percentages, periods) are never unseen, their values being drawn afresh in every split."""
    ents = tuple(replace(e, seen=not _lexicon_unseen(e, train_ids)) for e in u.entities)
    return replace(u, entities=ents)


def plan_utterances(cfg: SynthConfig, lexicon: Lexicon | None = None) -> Plan:
    """Decide every utterance's split, text, voice and augmentation for ``cfg.seed``."""
    seed = cfg.seed
    counts = split_counts(cfg.num_utterances, (cfg.splits.train, cfg.splits.dev, cfg.splits.test))
    splits = [s for s, c in zip(SPLITS, counts) for _ in range(c)]
    kinds = [cfg.corpus if cfg.corpus != "mixed" else
             ("finance" if _rng(seed, "corpus", i).random() < cfg.mixed_finance_share else "general")
             for i in range(len(splits))]

    gen: FinanceTextGenerator | None = None
    heldout: frozenset[str] = frozenset()
    if "finance" in kinds:
        lexicon = lexicon or load_lexicon(cfg.lexicon_dir)
        pools = LexiconPools.build(lexicon, cfg.splits.heldout_fraction, _rng(seed, "heldout"))
        gen = FinanceTextGenerator(load_templates(cfg.templates_path), pools, cfg.text)
        heldout = pools.heldout_ids
    general_pool: dict[str, list[str]] = {}
    if "general" in kinds:
        sentences = list(load_general_sentences(cfg.general))
        _rng(seed, "general").shuffle(sentences)
        # Split the sentences themselves, so no test sentence is ever heard in train.
        n_train = int(len(sentences) * cfg.splits.train)
        n_dev = int(len(sentences) * cfg.splits.dev)
        general_pool = {"train": sentences[:n_train], "dev": sentences[n_train:n_train + n_dev],
                        "test": sentences[n_train + n_dev:]}

    texts: list[Utterance | None] = [None] * len(splits)
    drawn = Counter[str]()
    for i, (split, kind) in enumerate(zip(splits, kinds)):
        if kind == "general":
            rng = _rng(seed, "text", i)
            pool = general_pool[split] or general_pool["train"]
            # Without replacement: every sentence is read once before any is read again (by another voice).
            label = pool[drawn[split] % len(pool)]
            drawn[split] += 1
            texts[i] = Utterance(label, verbalize(label, rng))
    # Train first: what train uses decides what counts as unseen in dev and test.
    train_ids: set[str] = set()
    test_counts = [0, 0]  # test entities so far: from unseen lexicon entries, all
    calls: list[Call] = []
    call_of: dict[int, Call] = {}
    unseen_prob = {"train": 0.0, "dev": cfg.splits.dev_unseen_prob, "test": cfg.splits.test_unseen_prob}
    for split in SPLITS:
        finance = [i for i, s in enumerate(splits) if s == split and kinds[i] == "finance"]
        if cfg.calls.enabled and finance:
            assert gen is not None and lexicon is not None
            for j, group in enumerate(group_into_calls(finance, cfg.calls, _rng(seed, "calls", split))):
                call = plan_call(f"{cfg.corpus}-{seed}-{split}-call{j:04d}", split, gen.pools, lexicon.by_ticker,
                                 cfg.calls, _rng(seed, "call", f"{split}/{j}"), unseen_prob[split])
                calls.append(call)
                call_of.update((i, call) for i in group)
        call_gens: dict[str, FinanceTextGenerator] = {}
        for i in finance:
            assert gen is not None
            call = call_of.get(i)
            # A call is an earnings call from start to end: its own entities, no call-centre lines.
            g = gen if call is None else call_gens.setdefault(call.id, replace(
                gen, pools=call_pools(gen.pools, call), config=replace(gen.config, callcentre_share=0.0)))
            rng = _rng(seed, "text", i)
            if split == "train":
                u = g.generate(rng, 0.0)
                train_ids.update(e.source for e in u.entities if e.source and not e.source.startswith("pattern:"))
            elif split == "dev":
                u = g.generate(rng, cfg.splits.dev_unseen_prob)
            else:
                u = _test_utterance(g, rng, cfg, train_ids, test_counts)
                test_counts[0] += sum(_lexicon_unseen(e, train_ids) for e in u.entities)
                test_counts[1] += len(u.entities)
            texts[i] = u

    specs = []
    for i, (split, kind, u) in enumerate(zip(splits, kinds, texts)):
        assert u is not None
        specs.append(UtteranceSpec(
            id=f"{cfg.corpus}-{seed}-{i:06d}", index=i, split=split, corpus=kind,
            utterance=_with_seen(u, train_ids), call_id=call_of[i].id if i in call_of else None,
            voice=_voice(cfg, split, _rng(seed, "voice", i)),
            augment=choose_augmentation(cfg.augment, _rng(seed, "augment", i))))
    return Plan(tuple(specs), heldout, tuple(calls))


def _voice(cfg: SynthConfig, split: str, rng: random.Random) -> Voice:
    """Held-out voice families read only test utterances (a ``tts.heldout_share`` of them)."""
    heldout = split == "test" and bool(cfg.tts.heldout_families) and rng.random() < cfg.tts.heldout_share
    return choose_voice(cfg.tts, rng, heldout=heldout)


def _test_utterance(gen: FinanceTextGenerator, rng: random.Random, cfg: SynthConfig, train_ids: set[str],
                    counts: list[int]) -> Utterance:
    """A test sentence that keeps the running unseen share at or above the target (best of ``max_tries``)."""
    best, best_share = None, -1.0
    for _ in range(max(cfg.splits.max_tries, 1)):
        u = gen.generate(rng, cfg.splits.test_unseen_prob)
        unseen = counts[0] + sum(_lexicon_unseen(e, train_ids) for e in u.entities)
        total = counts[1] + len(u.entities)
        share = unseen / total if total else 1.0
        if share >= cfg.splits.unseen_share:
            return u
        if share > best_share:
            best, best_share = u, share
    assert best is not None
    return best


def render(spec: UtteranceSpec, audio_dir: str, tts: TTSConfig) -> Recording:
    """Synthesise, perturb and write one utterance's audio (16-bit WAV); its Lhotse recording."""
    samples = synthesize(spec.utterance.spoken, spec.voice, sox_effects(spec.augment), tts)
    samples = add_noise(samples, spec.augment)
    path = Path(audio_dir) / spec.split / f"{spec.id}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, tts.sample_rate, subtype="PCM_16")
    return Recording.from_file(path, recording_id=spec.id)


def _to_cut(spec: UtteranceSpec, rec: Recording) -> MonoCut:
    u = spec.utterance
    row: dict[str, Any] = {"audio_filepath": rec.sources[0].source, "duration": rec.duration, "text": u.label,
                           "language": "en", "entities": [e.to_dict() for e in u.entities], "spoken": u.spoken,
                           "voice": spec.voice.to_dict(), "augmentation": spec.augment.to_dict(),
                           "split": spec.split, "corpus": spec.corpus}
    if spec.call_id:
        row["call_id"] = spec.call_id
    return row_to_cut(row, recording=rec, cut_id=spec.id)


def write_cuts(cuts: Sequence[MonoCut], path: str | Path) -> Path:
    """A Lhotse ``.jsonl.gz`` CutSet (the lines ``CutSet.to_file`` writes) with a zero gzip timestamp, so the same
    cuts give the same bytes; ``to_file`` stamps the current time into the gzip header."""
    lines = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in CutSet.from_cuts(cuts).to_dicts())
    Path(path).write_bytes(gzip.compress(lines.encode("utf-8"), mtime=0))
    return Path(path)


def _render_all(specs: Sequence[UtteranceSpec], audio_dir: str, cfg: SynthConfig) -> list[Recording]:
    fn = partial(render, audio_dir=audio_dir, tts=cfg.tts)
    bar = partial(tqdm, total=len(specs), desc="synthesising", unit="utt", disable=not cfg.progress)
    workers = min(cfg.workers, len(specs))
    if workers <= 1:
        return list(bar(map(fn, specs)))
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None  # fork: no re-import per worker
    chunk = max(1, min(8, len(specs) // (workers * 4)))
    with ProcessPoolExecutor(workers, mp_context=ctx) as ex:
        return list(bar(ex.map(fn, specs, chunksize=chunk)))


def _summary(cfg: SynthConfig, plan: Plan, cuts: dict[str, list[MonoCut]]) -> dict[str, Any]:
    def ents(split: str) -> list[dict[str, Any]]:
        return [e for c in cuts[split] for e in c.supervisions[0].custom.get("entities", [])]

    test_ents = ents("test")
    # The one definition of unseen (``_with_seen``): what the report's "unseen" counts over the same test cuts.
    unseen = sum(e.get("seen") is False for e in test_ents)
    voices = sorted({c.supervisions[0].custom["voice"]["name"] for cs in cuts.values() for c in cs})
    families = {s: dict(sorted(Counter(c.supervisions[0].custom["voice"]["family"] for c in cuts[s]).items()))
                for s in SPLITS}
    augmented = sum(bool(c.supervisions[0].custom["augmentation"]) for cs in cuts.values() for c in cs)
    return {
        "corpus": cfg.corpus,
        "seed": cfg.seed,
        "hours": round(sum(c.duration for cs in cuts.values() for c in cs) / 3600, 4),
        "hours_per_split": {s: round(sum(c.duration for c in cuts[s]) / 3600, 4) for s in SPLITS},
        "utterances": {s: len(cuts[s]) for s in SPLITS},
        "voices": {"distinct": len(voices), "names": voices, "families_per_split": families,
                   "heldout_families": list(cfg.tts.heldout_families)},
        "augmented_share": round(augmented / max(sum(len(cs) for cs in cuts.values()), 1), 4),
        "entities_per_category": {s: dict(sorted(Counter(e["category"] for e in ents(s)).items())) for s in SPLITS},
        # Test entities built from lexicon entries that no training utterance used (the report's "unseen").
        "unseen_share": round(unseen / len(test_ents), 4) if test_ents else 0.0,
        "unseen_entities": unseen,
        "test_entities": len(test_ents),
        "heldout_lexicon_entries": len(plan.heldout_ids),
        "calls": {sp: sum(c.split == sp for c in plan.calls) for sp in SPLITS} if plan.calls else None,
        "config": cfg.to_dict(),
    }


def synthesize_corpus(cfg: SynthConfig, lexicon: Lexicon | None = None) -> dict[str, Any]:
    """Plan, render and write ``cfg.output_dir``: audio/, {train,dev,test}_cuts.jsonl.gz, {..}_manifest.json,
    summary.json (and calls.jsonl with calls.enabled, test_calls_manifest.json with calls.recordings). Returns the
    summary."""
    check_tools(cfg.tts)
    out = Path(cfg.output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_utterances(cfg, lexicon)
    recordings = _render_all(plan.specs, str(out / "audio"), cfg)
    cuts: dict[str, list[MonoCut]] = {s: [] for s in SPLITS}
    for spec, rec in zip(plan.specs, recordings):
        cuts[spec.split].append(_to_cut(spec, rec))
    for split in SPLITS:
        write_cuts(cuts[split], out / f"{split}_cuts.jsonl.gz")
        cuts_to_nemo_manifest(cuts[split], out / f"{split}_manifest.json")
    if plan.calls:  # what a call-prep sheet knows: recipes/build_bias_list.py builds per-call lists from it
        (out / CALLS_FILE).write_text("".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in plan.calls),
                                      encoding="utf-8")
    long_rows = []
    if plan.calls and cfg.calls.recordings:  # long-form decoding is measured on whole calls
        long_rows = write_call_recordings(cuts["test"], out / "audio" / "test_calls", cfg.calls.pause_s,
                                          cfg.tts.sample_rate, cfg.calls.recording_min_s)
        write_nemo_manifest(long_rows, out / CALL_RECORDINGS_MANIFEST)
    summary = _summary(cfg, plan, cuts)
    if long_rows:
        minutes = [r["duration"] / 60 for r in long_rows]
        summary["call_recordings"] = {"count": len(long_rows), "minutes_min": round(min(minutes), 2),
                                      "minutes_max": round(max(minutes), 2)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary
