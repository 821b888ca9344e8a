"""Fair judgement (issue 12): what a speaker may say differently from how the reference writes it is not an error."""

from __future__ import annotations

import pytest

from finparakeet.entities import find_span
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
