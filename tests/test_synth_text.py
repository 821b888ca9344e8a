"""Synthetic finance text (no audio): exact spans, verbalisation, held-out entities in test, seeded plans."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import replace

import wordfreq

import pytest

from finparakeet.entities import FINANCE_CATEGORIES, span_errors
from finparakeet.lexicon import load_lexicon
from finparakeet.synth import SynthConfig, from_dict, plan_utterances
from finparakeet.synth.config import SplitConfig
from finparakeet.synth.general import GeneralConfig, clean_sentence, everyday, load_general_sentences
from finparakeet.synth.pipeline import split_counts, unseen_share
from finparakeet.synth.pools import LexiconPools
from finparakeet.synth.templates import load_templates, parse_template
from finparakeet.synth.text import FinanceTextGenerator, TextConfig, assemble
from finparakeet.synth.patterns import Fill
from finparakeet.synth.tts import TTSConfig, voice_names
from finparakeet.synth.verbalize import verbalize

LEXICON = load_lexicon()
# What the voice must never see: digits and symbols espeak-ng reads its own way.
_UNSPOKEN = re.compile(r"[0-9$%&#@/+=<>]")


def _generator(seed: int) -> FinanceTextGenerator:
    return FinanceTextGenerator(load_templates(), LexiconPools.build(LEXICON, 0.2, random.Random(seed)))


@pytest.mark.parametrize("seed", range(25))
def test_every_label_has_exact_spans_and_a_clean_spoken_form(seed):
    gen = _generator(seed)
    by_id = {t.id: t for t in gen.templates}
    rng = random.Random(seed)
    for _ in range(80):
        u = gen.generate(rng, unseen_prob=rng.choice((0.0, 0.5, 1.0)))
        assert u.label and u.label == u.label.strip() and "  " not in u.label
        first = u.label.split()[0]
        assert first[0].isupper() or not first.islower(), u.label  # "iShares ..." keeps its case
        assert span_errors(u.label, u.entities) == [], u.label
        assert len(u.entities) >= sum(len(by_id[t].slots) for t in u.templates), "a slot left no entity"
        ends = [0]
        for e in u.entities:
            assert e.category in FINANCE_CATEGORIES
            assert e.text.strip() == e.text and e.text
            assert e.start >= ends[-1], f"overlapping spans in {u.label!r}"
            ends.append(e.end)
            assert e.source.startswith("pattern:") or e.source in LEXICON.by_id, e.source
        assert not _UNSPOKEN.search(u.spoken), (u.label, u.spoken)


def test_spans_survive_prefixes_and_capitalisation():
    pieces = [Fill("free cash flow", "free cash flow", "TERM", "term:free cash flow"), " rose ",
              Fill("third quarter", "third quarter", "PERIOD", "pattern:PERIOD", prefix="in the "), "."]
    u = assemble(pieces, random.Random(0))
    assert u.label == "Free cash flow rose in the third quarter."
    assert [(e.text, e.category) for e in u.entities] == [("Free cash flow", "TERM"), ("third quarter", "PERIOD")]
    assert span_errors(u.label, u.entities) == []
    # camel-cased names are not capitalised
    u = assemble([Fill("iShares Core S&P 500 ETF", "i shares", "ORG", "etf:x"), " fell."], random.Random(0))
    assert u.label.startswith("iShares") and u.entities[0].text == "iShares Core S&P 500 ETF"


def test_templates_cover_every_category_and_reject_bad_slots():
    templates = load_templates()
    assert len(templates) >= 150
    cats = {s.category for t in templates for s in t.slots}
    assert cats == set(FINANCE_CATEGORIES)
    assert {t.style for t in templates} == {"earnings", "callcentre"}
    with pytest.raises(ValueError, match="unknown category"):
        parse_template("Revenue was {DOLLARS}.")
    with pytest.raises(ValueError, match="malformed"):
        parse_template("Revenue was {money}.")


def test_tagged_slots_name_one_company():
    gen = FinanceTextGenerator((parse_template("{ORG:company#a}, ticker {TICKER#a}, reported.", "t", "earnings"),),
                               LexiconPools.build(LEXICON, 0.2, random.Random(0)),
                               TextConfig(two_sentence_share=0.0, discourse_share=0.0))
    for i in range(30):
        u = gen.generate(random.Random(i))
        company, ticker = u.entities
        assert LEXICON.by_id[company.source].ticker == ticker.text == LEXICON.by_id[ticker.source].ticker
        assert LEXICON.by_id[company.source].written == company.text


# written -> spoken, the most common reading (no RNG)
VERBALIZER_CASES = [
    ("$4.2 billion", "four point two billion dollars"),
    ("$600,000", "six hundred thousand dollars"),
    ("$0.25", "twenty five cents"),
    ("$1.42", "one dollar and forty two cents"),
    ("$12", "twelve dollars"),
    ("$1 million", "one million dollars"),
    ("$4.1 to $4.3 billion", "four point one to four point three billion dollars"),
    ("12.5%", "twelve point five percent"),
    ("12.05%", "twelve point zero five percent"),
    ("3-5%", "three to five percent"),
    ("50 bps", "fifty basis points"),
    ("25 basis points", "twenty five basis points"),
    ("1 basis point", "one basis point"),
    ("fiscal 2024", "fiscal twenty twenty four"),
    ("in 2005", "in two thousand five"),
    ("Q3", "Q three"),
    ("Q4 2023", "Q four twenty twenty three"),
    ("FY24", "F Y twenty four"),
    ("H2", "H two"),
    ("June 30, 2024", "June thirtieth, twenty twenty four"),
    ("our 12th quarter", "our twelfth quarter"),
    ("1,200 stores", "one thousand two hundred stores"),
    ("2.5x", "two point five times"),
    ("10-K", "ten K"),
    ("S&P 500", "S and P five hundred"),
    ("our CFO said", "our C F O said"),
    ("NVIDIA (NVDA) rose.", "NVIDIA N V D A rose."),
]


@pytest.mark.parametrize("written,spoken", VERBALIZER_CASES)
def test_verbalizer(written, spoken):
    assert verbalize(written) == spoken


# with an RNG: the usual readings, each of them occurring
VERBALIZER_ALTERNATIVES = [
    ("$0.25", {"twenty five cents", "zero point two five dollars"}),
    ("$12.50", {"twelve dollars and fifty cents", "twelve dollars fifty"}),  # never "twelve fifty" (1250)
    ("$700.13", {"seven hundred dollars and thirteen cents"}),  # never "seven hundred thirteen" ($713)
    ("Q3", {"Q three", "third quarter"}),
    ("0.5%", {"zero point five percent", "point five percent"}),
    ("50 bps", {"fifty basis points", "fifty bips"}),
    ("2005", {"two thousand five", "two thousand and five", "twenty oh five"}),
    ("1,200", {"one thousand two hundred", "twelve hundred"}),
]


@pytest.mark.parametrize("written,allowed", VERBALIZER_ALTERNATIVES)
def test_verbalizer_alternatives(written, allowed):
    assert {verbalize(written, random.Random(i)) for i in range(300)} == allowed


def test_verbalizer_keeps_values_apart():
    assert verbalize("$4.2 billion") != verbalize("$4.2 million")
    assert verbalize("12.5%") != verbalize("12.05%")
    assert verbalize("50 bps") != verbalize("15 bps")


def test_split_counts():
    assert split_counts(12, (0.8, 0.1, 0.1)) == [10, 1, 1]
    assert split_counts(100, (0.8, 0.1, 0.1)) == [80, 10, 10]
    assert sum(split_counts(7, (0.5, 0.25, 0.25))) == 7
    assert split_counts(1, (0.8, 0.1, 0.1)) == [1, 0, 0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_test_split_holds_unseen_lexicon_entities(seed):
    plan = plan_utterances(SynthConfig(num_utterances=400, seed=seed))
    by_split = {s: [p.utterance for p in plan.specs if p.split == s] for s in ("train", "dev", "test")}
    train_ids = {e.source for u in by_split["train"] for e in u.entities if not e.source.startswith("pattern:")}
    assert train_ids and not (train_ids & plan.heldout_ids), "train used held-out lexicon entries"
    test_ents = [e for u in by_split["test"] for e in u.entities]
    unseen = [e for e in test_ents if e.seen is False and not e.source.startswith("pattern:")]
    assert len(unseen) / len(test_ents) >= 0.30
    assert unseen_share(by_split["test"], train_ids) == len(unseen) / len(test_ents)
    assert all(e.seen for u in by_split["train"] for e in u.entities)
    for e in unseen:
        assert e.source not in train_ids
    assert any(e.seen for e in test_ents), "test should also hold entities seen in train"


def test_unseen_share_target_is_what_the_greedy_keeps():
    # With held-out entries drawn rarely, only the per-utterance search keeps the share up.
    cfg = SynthConfig(num_utterances=300, seed=4, splits=SplitConfig(test_unseen_prob=0.3, unseen_share=0.45))
    test = [p.utterance for p in plan_utterances(cfg).specs if p.split == "test"]
    ents = [e for u in test for e in u.entities]
    assert sum(e.seen is False and not e.source.startswith("pattern:") for e in ents) / len(ents) >= 0.45
    cfg = replace(cfg, splits=replace(cfg.splits, max_tries=1, unseen_share=0.0))
    test = [p.utterance for p in plan_utterances(cfg).specs if p.split == "test"]
    ents = [e for u in test for e in u.entities]
    assert sum(e.seen is False and not e.source.startswith("pattern:") for e in ents) / len(ents) < 0.45


def test_heldout_keeps_listings_together_and_takes_its_share_of_each_kind():
    pools = LexiconPools.build(LEXICON, 0.2, random.Random(0))
    held = pools.heldout_ids
    for e in LEXICON.entries:
        if e.ticker:  # a company or fund and its ticker are held out together, or not at all
            assert {x.id in held for x in LEXICON.entries if x.ticker == e.ticker} == {e.id in held}
    for kind in ("company", "index", "term"):
        entries = LEXICON.by_kind(kind)
        if len(entries) >= 10:
            assert 0.15 <= sum(e.id in held for e in entries) / len(entries) <= 0.25, kind
    assert pools.heldout_ids != LexiconPools.build(LEXICON, 0.2, random.Random(1)).heldout_ids


def test_plan_is_seeded():
    a = plan_utterances(SynthConfig(num_utterances=60, seed=7))
    b = plan_utterances(SynthConfig(num_utterances=60, seed=7, num_workers=1))
    c = plan_utterances(SynthConfig(num_utterances=60, seed=8))
    assert a == b
    assert [s.utterance.label for s in a.specs] != [s.utterance.label for s in c.specs]
    assert [s.voice for s in a.specs] != [s.voice for s in c.specs]


def test_plan_varies_voices_and_augmentation():
    plan = plan_utterances(SynthConfig(num_utterances=200, seed=3))
    assert len({s.voice.name for s in plan.specs}) >= 20
    assert len({s.voice.rate for s in plan.specs}) >= 20
    augmented = [s.augment for s in plan.specs if s.augment.to_dict()]
    assert 0.35 <= len(augmented) / 200 <= 0.65
    assert any(a.noise for a in augmented) and any(a.telephone for a in augmented) and any(a.speed for a in augmented)
    assert all(5.0 <= a.snr_db <= 25.0 for a in augmented if a.noise)


def test_default_voices_are_many_distinct_espeak_combinations():
    assert len(set(voice_names(TTSConfig()))) >= 20


@pytest.fixture(scope="module")
def general_available():
    g = GeneralConfig()
    import os
    if not (os.path.isdir(g.fortune_dir) and os.path.isdir(g.wordnet_dir)):
        pytest.skip("fortunes / wordnet Debian packages not installed")


def test_general_corpus_is_entity_free_clean_text(general_available):
    plan = plan_utterances(SynthConfig(num_utterances=300, seed=2, corpus="general"))
    labels = {s: {p.utterance.label for p in plan.specs if p.split == s} for s in ("train", "dev", "test")}
    for p in plan.specs:
        u = p.utterance
        assert u.entities == () and p.corpus == "general"
        assert u.label[0].isupper() and u.label[-1] in ".!?"
        assert 4 <= len(u.label.split()) <= 20
        assert "--" not in u.label and not re.search(r"\b[A-Z]{2,}", u.label)
        assert not _UNSPOKEN.search(u.spoken)
    assert not (labels["train"] & labels["test"]), "a test sentence also occurs in train"
    assert plan.heldout_ids == frozenset()


def test_mixed_corpus_has_both(general_available):
    plan = plan_utterances(SynthConfig(num_utterances=80, seed=1, corpus="mixed"))
    kinds = {s.corpus for s in plan.specs}
    assert kinds == {"finance", "general"}


@pytest.mark.parametrize("raw,clean", [
    ("the child was born with a caul", "The child was born with a caul."),
    ("  Avoid   reality at all costs. ", "Avoid reality at all costs."),
    ("A clash of doctrine is not a disaster -- it is an opportunity.", None),
    ("A can of ASPARAGUS and some LIVE ammo!", None),
    ("A: The Boy Scouts have adult supervision.", None),
    ("Too short.", None),
    ("Wait...", None),
])
def test_clean_sentence(raw, clean):
    assert clean_sentence(raw) == clean


def test_config_from_dict_checks_keys():
    cfg = from_dict(SynthConfig, {"output_dir": "x", "num_utterances": 5, "tts": {"rate": [150, 160]},
                                  "augment": {"noise": {"snr_db": [10, 20]}}})
    assert cfg.tts.rate == (150, 160) and cfg.augment.noise.snr_db == (10.0, 20.0)
    with pytest.raises(ValueError, match="unknown config key"):
        from_dict(SynthConfig, {"output_dir": "x", "num_utterance": 5})
    with pytest.raises(ValueError, match="corpus"):
        SynthConfig(corpus="news")
    with pytest.raises(ValueError, match="sum to 1"):
        SynthConfig(splits=SplitConfig(train=0.9, dev=0.1, test=0.1))


def test_heldout_voice_family_reads_only_test():
    plan = plan_utterances(SynthConfig(num_utterances=400, seed=4))
    fams = {s: Counter(p.voice.family for p in plan.specs if p.split == s) for s in ("train", "dev", "test")}
    assert fams["train"]["piper"] == 0 and fams["dev"]["piper"] == 0
    assert 0.3 <= fams["test"]["piper"] / sum(fams["test"].values()) <= 0.7
    assert {"espeak", "flite", "festival"} <= set(fams["train"])


def test_voice_family_config_is_checked():
    with pytest.raises(ValueError, match="both trained on and held out"):
        TTSConfig(families=("espeak", "piper"), family_weights=(1, 1))
    with pytest.raises(ValueError, match="unknown voice famil"):
        TTSConfig(heldout_families=("mbrola",))
    with pytest.raises(ValueError, match="one weight"):
        TTSConfig(families=("espeak",))


def test_general_sentences_are_read_once_before_any_is_read_again(general_available):
    cfg = SynthConfig(num_utterances=300, seed=2, corpus="general")
    plan = plan_utterances(cfg)
    train = [p.utterance.label for p in plan.specs if p.split == "train"]
    assert len(set(train)) == len(train)  # 240 draws from ~20k train sentences: no repeats


def test_everyday_filter_keeps_only_common_words():
    sents = ["The cat sat on the mat.", "The sanctimonious hypocrites prevaricated."]
    assert list(everyday(sents, 20000)) == ["The cat sat on the mat."]
    assert list(everyday(sents, 50)) == []  # "sat", "mat" are not among the 50 most frequent words


def test_general_corpus_vocabulary_filter(general_available):
    everyday_only = set(load_general_sentences(GeneralConfig(vocabulary_size=5000)))
    everything = set(load_general_sentences(GeneralConfig(vocabulary_size=0)))
    assert everyday_only < everything and len(everyday_only) > 5000
    common = set(wordfreq.top_n_list("en", 5000))
    assert all(w in common for s in everyday_only for w in wordfreq.tokenize(s, "en"))
