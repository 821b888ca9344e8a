"""The normaliser's fast path (``finparakeet.text.fast``) gives exactly the full pipeline's words and spans."""

from __future__ import annotations

import random

import pytest

from finparakeet.text import FinanceNormalizer
from finparakeet.text import tables as T
from finparakeet.text.fast import COMPANION, INERT, TRIGGER, TRIGGER_WORDS, rule_words, text2num_role
from test_normalizer import DIFFERENT, EARNINGS21, EQUAL, PLAIN

NORMALIZERS = [FinanceNormalizer(), FinanceNormalizer(expand_contractions=False)]

# Every word a rule reads, in three casings, plus plain words (some in capitals), written numbers and codes, and
# punctuation around them.
_RULE_WORDS = sorted(w for w in rule_words() | TRIGGER_WORDS if w.strip())
_PLAIN = ("revenue grew the we our margin COVID NVDA EBITDA Phase Class call thanks operator so well yeah is that's "
          "ok more then uh plus minus second seconds ones tens os oss thirds hundreds I A O X V Q K M B").split()
_WRITTEN = ("$4.2 4.2 12.5% 50bps 1,250 2024 20 21 2000 10-K Q3 $0.25 3-5% 8:00 2/3 CHF USD $ % & S&P 1st 90s "
            "o'clock we'll gonna 2.5x -2% .5 007 1,000,000 U.S. E.P.S. it's company's I'm let's 'em - -- ... 4.2B "
            "$10K 3bn 25¢ 19.10 1990s 3rd 22nd COVID-19 Ten-K 3M (NOW) AT&T we’ll “Twelve percent” 3—5% "
            "‘90s").split()
_PUNCT_BEFORE = ["", "", "", "", "(", '"', "'", "-"]
_PUNCT_AFTER = ["", "", "", "", "", ",", ".", ";", ":", "?", ")", "-", "'s"]


# The phrases the rules act on: every form of the normaliser's equality and inequality tables.
_PHRASES = sorted({f for _, forms in EQUAL for f in forms} | {x for pair in DIFFERENT for x in pair} | set(PLAIN))


def _word(rng: random.Random) -> str:
    pool = rng.random()
    if pool < 0.4:
        w = rng.choice(_RULE_WORDS)
        w = rng.choice([w, w.upper(), w.capitalize()])
    elif pool < 0.6:
        w = rng.choice(_PLAIN)
    elif pool < 0.75:
        w = rng.choice(_WRITTEN)
    else:
        # a phrase, maybe in capitals, maybe with a plain word or punctuation inside it
        words = rng.choice(_PHRASES).split()
        if rng.random() < 0.2:
            words = [w.upper() for w in words]
        if len(words) > 1 and rng.random() < 0.3:
            words.insert(rng.randrange(1, len(words)), rng.choice(_PLAIN + [",", "-", "."]))
        w = " ".join(words)
    return rng.choice(_PUNCT_BEFORE) + w + rng.choice(_PUNCT_AFTER)


def _assert_same(text: str) -> None:
    for n in NORMALIZERS:
        assert n.normalize_with_spans(text) == n._normalize_full_with_spans(text), (text, n.expand_contractions)


def test_word_classes() -> None:
    assert text2num_role("one") == text2num_role("thousands") == text2num_role("third") == TRIGGER
    assert text2num_role("and") == text2num_role("point") == COMPANION
    assert text2num_role("revenue") == INERT
    words = rule_words()
    # the tables the rule passes read, and the words their code compares
    assert {"percent", "basis", "dollars", "quarter", "june", "a", "and", "point", "oh", "half", "dash"} <= words
    assert set(T.MONTHS) | set(T.SCALE_WORDS) | set(T.ROMAN_NUMERALS) <= words
    assert not {"revenue", "the", "we"} & words


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_equals_full_pipeline_on_word_salad(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(1000):
        words = [_word(rng) for _ in range(rng.randint(1, 10))]
        seps = [rng.choice([" ", " ", " ", " ", " ", "  ", "\n", " \t", "\xa0", "\u2028"]) for _ in words]
        text = rng.choice(["", "", " ", "\n"]) + "".join(w + s for w, s in zip(words, seps))
        if rng.random() < 0.5:
            text = text.rstrip()
        _assert_same(text)


def test_fast_path_equals_full_pipeline_on_examples() -> None:
    for text in [
        "", "   ", " -- * ... ", "revenue", "COVID dash nineteen", "the COVID dash nineteen", "Phase I trial",
        "phase III", "I I think", "N V D A", "a dollar", "a few hundred", "oh point nine", "point oh five", "so, five",
        "five, revenue ten", "twenty revenue twenty", "one and a half billion", "two thirds of the", "the nineties",
        "june second", "C H F eighty five", "negative two percent", "3 to 5%", "Q2 to 39%", "we'll gonna 'cause",
        "revenue  grew\n\nfive   million dollars, up 12.5% (50 bps); we'll file the 10-K. NVDA: N V D A.",
    ]:
        _assert_same(text)


def _earnings21_texts(calls: int | None) -> list[str]:
    from finparakeet.data.earnings21 import list_calls, list_systems
    from finparakeet.scoring import load_earnings21

    refs, hyps, _ = load_earnings21(EARNINGS21, list_systems(EARNINGS21), list_calls(EARNINGS21)[:calls])
    return [t for t, _ in refs.values()] + [h for s in hyps.values() for h in s.values()]


def _assert_same_texts(texts: list[str]) -> None:
    n = NORMALIZERS[0]
    bad = [i for i, t in enumerate(texts) if n.normalize_with_spans(t) != n._normalize_full_with_spans(t)]
    assert not bad, f"{len(bad)} of {len(texts)} texts differ, e.g. #{bad[:5]}"


needs_earnings21 = pytest.mark.skipif(not (EARNINGS21 / "transcripts").is_dir(),
                                      reason=f"Earnings-21 not found at {EARNINGS21}")


@needs_earnings21
def test_fast_path_equals_full_pipeline_on_earnings21_sample() -> None:
    """Two calls: the references and every system's output (~130,000 words)."""
    _assert_same_texts(_earnings21_texts(2))


@needs_earnings21
@pytest.mark.slow
def test_fast_path_equals_full_pipeline_on_all_of_earnings21() -> None:
    """All 44 references and 7 x 44 system outputs (~2.9M normalised words; about a minute)."""
    _assert_same_texts(_earnings21_texts(None))


def test_caches_start_afresh_and_are_not_pickled() -> None:
    import pickle

    n = FinanceNormalizer()
    text = "Revenue grew twelve point five percent to $4.2 billion in the third quarter."
    words = n.normalize_with_spans(text)
    assert n._fast._caches.cls and n._fast._caches.regions
    assert len(pickle.dumps(n)) < 1000
    assert pickle.loads(pickle.dumps(n)).normalize_with_spans(text) == words
    n.clear_cache()
    assert not n._fast._caches.cls
    assert n.normalize_with_spans(text) == words
