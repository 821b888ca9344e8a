"""Fair judgement (issue 12): what a speaker may say differently from how the reference writes it is not an error."""

from __future__ import annotations

import pytest

from conftest import EARNINGS21
from conftest import find_span
from finparakeet.scoring import EntityTally


def score(reference: str, hypothesis: str, surface: str, category: str, **kw) -> dict:
    tally = EntityTally(**kw)
    tally.update([reference], [hypothesis], entities=[[find_span(reference, surface, category)]])
    return tally.compute()


# --- periods -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("said", ["first half 2019", "the first half of 2019", "1H 2019", "H one twenty nineteen",
                                  "first half of twenty nineteen"])
def test_a_half_said_in_words_is_no_error(said: str) -> None:
    r = score("Sales rose in H1 2019.", f"sales rose in {said}", "H1 2019", "PERIOD")
    assert r["categories"]["PERIOD"]["errors"] == 0
    assert r["entity_accuracy"] == 1.0


@pytest.mark.parametrize("written, said", [("Q3 2019", "third quarter of twenty nineteen"), ("3Q19", "Q3 19"),
                                           ("FY 2020", "fiscal year twenty twenty"), ("FY2020", "fiscal 2020"),
                                           ("H2", "second half"), ("YTD", "year to date")])
def test_periods_said_as_people_say_them(written: str, said: str) -> None:
    r = score(f"Growth in {written} was strong.", f"growth in {said} was strong", written, "PERIOD")
    assert (r["wer"], r["entity_wer"]) == (0.0, 0.0)


@pytest.mark.parametrize("written, said", [("H1 2019", "second half 2019"), ("H1 2019", "first quarter 2019"),
                                           ("FY 2020", "fiscal 2021")])
def test_a_different_period_is_still_an_error(written: str, said: str) -> None:
    r = score(f"Growth in {written} was strong.", f"growth in {said} was strong", written, "PERIOD")
    assert r["categories"]["PERIOD"]["errors"] == 1


# --- money: a missing currency is a format difference ------------------------------------------------------------

REF_MONEY = "Revenue was $329.3 million in the quarter."


def test_a_missing_currency_is_format_only_not_an_error() -> None:
    r = score(REF_MONEY, "revenue was three hundred twenty nine point three million in the quarter",
              "$329.3 million", "MONEY")
    assert r["categories"]["MONEY"] == {"entity_wer": 0.0, "entity_accuracy": 1.0, "num_entities": 1, "errors": 0,
                                        "ref_words": 2, "format_only": 1}
    assert (r["wer"], r["format_only_words"], r["format_only_entities"]) == (0.0, 1, 1)
    assert r["utterances"][0]["entities"][0]["correct"] is True


@pytest.mark.parametrize("said, errors", [("five million euros", 1), ("five billion dollars", 1), ("five million", 0),
                                          ("5 million dollars", 0), ("fifty million", 1)])
def test_a_different_currency_or_value_stays_an_error(said: str, errors: int) -> None:
    r = score("We paid $5 million.", f"we paid {said}", "$5 million", "MONEY")
    assert r["categories"]["MONEY"]["errors"] == errors
    assert r["categories"]["MONEY"]["format_only"] == (1 if said == "five million" else 0)


def test_format_only_is_counted_by_both_accumulators_and_shown_in_markdown() -> None:
    from finparakeet.scoring import EntityMetric, to_markdown

    ref, hyp = [REF_MONEY, "Costs were €2 million."], ["revenue was 329.3 million in the quarter", "costs were 2 million"]
    ents = [[find_span(REF_MONEY, "$329.3 million", "MONEY")], [find_span(ref[1], "€2 million", "MONEY")]]
    tally, metric = EntityTally(), EntityMetric()
    for acc in (tally, metric):
        acc.update(ref, hyp, entities=ents)
    a, b = tally.compute(), metric.compute()
    assert a["categories"] == b["categories"] and a["categories"]["MONEY"]["format_only"] == 2
    assert a["format_only_words"] == b["format_only_words"] == 2
    md = to_markdown(a)
    assert "| MONEY | 2 | 0.0% | 100.0% | 0 | 4 | 2 |" in md


# --- tickers: matched only as written --------------------------------------------------------------------------

BIAS = ["ON", "IT", "Nvidia", "NVDA", "free cash flow"]  # a cased list: capitals mean a ticker
REF_ON = "ON rose on Monday and it said NVDA was up."


def keyphrases(reference: str, hypothesis: str, bias: list[str]) -> dict:
    tally = EntityTally(bias_list=bias)
    tally.update([reference], [hypothesis], entities=[[]])
    r = tally.compute()
    return {k: r["keyphrases"][k] for k in ("hits", "false_alarms", "misses")} | {
        "phrases": r["utterances"][0].get("keyphrases", {})}


def test_a_ticker_that_is_a_word_matches_only_in_capitals() -> None:
    kp = keyphrases(REF_ON, "ON rose on monday and it said N V D A was up", BIAS)
    assert (kp["hits"], kp["false_alarms"], kp["misses"]) == (2, 0, 0)  # "on", "it" are words, not ON and IT
    assert kp["phrases"] == {"ON": [1, 0, 0], "NVDA": [1, 0, 0]}


def test_the_word_for_a_ticker_is_a_miss_not_a_hit_and_never_a_false_alarm() -> None:
    kp = keyphrases(REF_ON, "on rose on monday and it said nvda was up", BIAS)
    assert (kp["hits"], kp["false_alarms"], kp["misses"]) == (0, 0, 2)
    kp = keyphrases("It rose on Monday.", "IT rose ON Monday.", BIAS)  # the recogniser wrote the tickers
    assert (kp["hits"], kp["false_alarms"], kp["misses"]) == (0, 2, 0)


def test_an_all_capitals_list_matches_in_any_case() -> None:
    # Earnings-21's lists are written in capitals: their case says nothing, so matching ignores it.
    kp = keyphrases("It rose on Monday.", "it rose on monday", ["ON", "GOLDMAN SACHS"])
    assert (kp["hits"], kp["false_alarms"], kp["misses"]) == (1, 0, 0)


def test_word_tickers_are_the_common_english_words() -> None:
    from finparakeet.text.tickers import word_tickers

    assert word_tickers(["ON", "NVDA", "IT", "ALL", "NOW", "NET", "SO", "HAS", "ARE", "Apple", "BRK.B", "A", "T",
                         "IBM", "free cash flow", "ON"]) == ["ON", "IT", "ALL", "NOW", "NET", "SO", "HAS", "ARE", "A"]


def test_bias_list_building_warns_about_word_tickers(caplog: pytest.LogCaptureFixture) -> None:
    from finparakeet.biasing import BiasListConfig, build_bias_list

    with caplog.at_level("WARNING", logger="finparakeet.biasing"):
        phrases = build_bias_list(BiasListConfig(kinds=["ticker"])).phrases
    assert {"ON", "IT", "NOW"} <= set(phrases)
    warning = next(r.getMessage() for r in caplog.records if "common English words" in r.getMessage())
    assert "ON" in warning.split(": ", 1)[1].split(", ") and "NVDA" not in warning


# --- unseen: one definition, lexicon entries no training utterance used ------------------------------------------

def test_pattern_entities_are_never_unseen_in_the_report() -> None:
    ref = "Apple earned $4.2 billion."
    ents = [find_span(ref, "Apple", "ORG", seen=False, source="company:AAPL"),
            find_span(ref, "$4.2 billion", "MONEY", seen=False, source="pattern:MONEY")]  # as older manifests wrote
    tally = EntityTally()
    tally.update([ref], ["apple earned 4.2 million dollars"], entities=[ents])
    r = tally.compute()
    assert r["unseen"]["num_entities"] == 1 and set(r["unseen_categories"]) == {"ORG"}
    assert [e.get("seen") for e in r["utterances"][0]["entities"]] == [False, None]


def test_the_synthesis_summary_and_the_report_count_the_same_unseen_entities() -> None:
    from types import SimpleNamespace

    from finparakeet.synth import SynthConfig, plan_utterances
    from finparakeet.synth.pipeline import SPLITS, _summary

    cfg = SynthConfig(num_utterances=300, seed=3)
    plan = plan_utterances(cfg)
    train_ids = {e.source for p in plan.specs if p.split == "train" for e in p.utterance.entities}
    test = [p.utterance for p in plan.specs if p.split == "test"]
    ents = [e for u in test for e in u.entities]
    lexicon_unseen = [e for e in ents if not e.source.startswith("pattern:") and e.source not in train_ids]
    assert all(e.seen is not False for e in ents if e.source.startswith("pattern:"))
    assert [e for e in ents if e.seen is False] == lexicon_unseen and lexicon_unseen

    tally = EntityTally()
    tally.update([u.label for u in test], [u.label for u in test], entities=[list(u.entities) for u in test])
    report = tally.compute()

    def cut(spec):  # what _summary reads of a cut
        custom = {"entities": [e.to_dict() for e in spec.utterance.entities], "augmentation": {},
                  "voice": spec.voice.to_dict()}
        return SimpleNamespace(duration=1.0, supervisions=[SimpleNamespace(custom=custom)])

    cuts = {s: [cut(p) for p in plan.specs if p.split == s] for s in SPLITS}
    summary = _summary(cfg, plan, cuts)
    assert summary["unseen_entities"] == report["unseen"]["num_entities"] == len(lexicon_unseen)
    assert summary["test_entities"] == report["num_entities"] == len(ents)
    assert summary["unseen_share"] == round(len(lexicon_unseen) / len(ents), 4) >= cfg.splits.unseen_share


# --- Earnings-21's own verbalisations: an amount said without its currency -------------------------------------

@pytest.mark.skipif(not (EARNINGS21 / "transcripts").is_dir(), reason=f"Earnings-21 not found at {EARNINGS21}")
def test_earnings21_amounts_said_without_currency_are_format_only() -> None:
    from test_normalizer import _CURRENCY_WORDS, _earnings21_pairs

    from finparakeet.scoring.align import align_words
    from finparakeet.text import FinanceNormalizer

    norm = FinanceNormalizer()
    total = zero_errors = format_only = 0
    for cls, written, candidates in _earnings21_pairs():
        bare = [c for c in candidates if cls == "MONEY" and not _CURRENCY_WORDS & set(c.split())]
        if not bare:
            continue
        al = align_words(norm(written).split(), norm(bare[0]).split())
        total, zero_errors, format_only = total + 1, zero_errors + (al.errors == 0), format_only + (al.format_only > 0)
    # Measured 801 / 847 (94.6%): the rest are readings with neither "point" nor a currency ("two thirty nine" for
    # $2.39 is 239) or the generator's guesses ("five and five million"), which stay errors.
    assert total > 800 and zero_errors / total >= 0.93 and format_only / total >= 0.85
