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
