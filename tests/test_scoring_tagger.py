"""Finance tagger: exact spans on varied sentences, case rules for tickers, longest match, speed."""

import time

import pytest

from finparakeet.lexicon import Lexicon, LexiconEntry
from finparakeet.text import FinanceTagger

LEX = Lexicon((
    LexiconEntry("ticker:NVDA", "NVDA", "TICKER", "ticker", ("N V D A",), ticker="NVDA"),
    LexiconEntry("company:NVDA", "NVIDIA", "ORG", "company", ("en vidia",), ("Nvidia",), ticker="NVDA"),
    LexiconEntry("ticker:AAPL", "AAPL", "TICKER", "ticker", ("A A P L",), ticker="AAPL"),
    LexiconEntry("company:AAPL", "Apple", "ORG", "company", ("Apple",), ("Apple Inc.",), ticker="AAPL"),
    LexiconEntry("ticker:NOW", "NOW", "TICKER", "ticker", ("now",), ticker="NOW"),
    LexiconEntry("ticker:F", "F", "TICKER", "ticker", ("F",), ticker="F"),
    LexiconEntry("company:JPM", "JPMorgan Chase", "ORG", "company", ("J P Morgan Chase",), ("JPMorgan",)),
    LexiconEntry("index:S&P 500", "S&P 500", "ORG", "index", ("S and P five hundred",), ("S&P",)),
    LexiconEntry("term:EBITDA", "EBITDA", "TERM", "term", ("ee bit dah",)),
    LexiconEntry("term:adjusted EBITDA", "adjusted EBITDA", "TERM", "term", ("adjusted ee bit dah",)),
    LexiconEntry("term:free cash flow", "free cash flow", "TERM", "term", ("free cash flow",)),
    LexiconEntry("term:10-K", "10-K", "TERM", "term", ("ten K",)),
    LexiconEntry("term:EPS", "EPS", "TERM", "term", ("E P S",)),
    LexiconEntry("term:GAAP", "GAAP", "TERM", "term", ("gap",)),
))


@pytest.fixture(scope="module")
def tagger():
    return FinanceTagger(LEX)


def tags(tagger, text):
    spans = tagger.tag(text)
    for s in spans:
        assert text[s.start:s.end] == s.text, s  # spans are exact
        assert s.source == "tagger"
    return [(s.category, s.text) for s in spans]


@pytest.mark.parametrize("text, expected", [
    ("NVDA rose 4.2% in Q3 2024 to $4.2 billion.",
     [("TICKER", "NVDA"), ("PERCENT", "4.2%"), ("PERIOD", "Q3 2024"), ("MONEY", "$4.2 billion")]),
    ("Apple (AAPL) cut its rate by 50 bps, or 25 basis points net.",
     [("ORG", "Apple"), ("TICKER", "AAPL"), ("BPS", "50 bps"), ("BPS", "25 basis points")]),
    ("Adjusted EBITDA and free cash flow, per the 10-K, beat guidance.",
     [("TERM", "Adjusted EBITDA"), ("TERM", "free cash flow"), ("TERM", "10-K")]),
    ("The S&P 500 fell 3-5% on March 31, 2024.",
     [("ORG", "S&P 500"), ("PERCENT", "3-5%"), ("PERIOD", "March 31, 2024")]),
    ("Revenue was four point two billion dollars, up twelve point five percent.",
     [("MONEY", "four point two billion dollars"), ("PERCENT", "twelve point five percent")]),
    ("EPS of 56 cents in the third quarter of fiscal 2023 versus $0.25 in FY22.",
     [("TERM", "EPS"), ("MONEY", "56 cents"), ("PERIOD", "third quarter of fiscal 2023"), ("MONEY", "$0.25"),
      ("PERIOD", "FY22")]),
    ("We sold 1,250 units to 1.5 million users in 2024, and 3 more.",
     [("CARDINAL", "1,250"), ("CARDINAL", "1.5 million"), ("PERIOD", "2024"), ("CARDINAL", "3")]),
    ("JPMorgan Chase said Nvidia's margin was up in H1 2025 and 3Q24.",
     [("ORG", "JPMorgan Chase"), ("ORG", "Nvidia"), ("PERIOD", "H1 2025"), ("PERIOD", "3Q24")]),
    ("Costs were €12 million, or 1.2 million euros.", [("MONEY", "€12 million"), ("MONEY", "1.2 million euros")]),
])
def test_tagger_spans(tagger, text, expected):
    assert tags(tagger, text) == expected


def test_ticker_case_and_ambiguity_rules(tagger):
    assert tags(tagger, "nvda and aapl in lower case are not tickers") == []
    # "NOW" and "F" are tickers and words/letters: only with a cue
    assert tags(tagger, "NOW is the time, F is a grade") == []
    assert tags(tagger, "Buy $NOW and (F) and NYSE: F") == [("TICKER", "NOW"), ("TICKER", "F"), ("TICKER", "F")]
    assert tags(tagger, "WE SAID NVDA WOULD RISE") == []  # shouting: bare tickers are not trusted


def test_company_capitalisation_and_spoken_forms_not_used(tagger):
    assert tags(tagger, "an apple a day") == []
    assert tags(tagger, "Apple Inc. grew") == [("ORG", "Apple Inc")]
    # spoken forms are for voices: "gap" is not GAAP, "ee bit dah" is not tagged
    assert tags(tagger, "mind the gap in ee bit dah") == []
    assert tags(tagger, "GAAP and non-GAAP") == [("TERM", "GAAP")]  # "non-GAAP" is another word
    assert tags(tagger, "eps is not EPS") == [("TERM", "EPS")]  # short acronym terms need upper case


def test_longest_match_wins(tagger):
    assert tags(tagger, "adjusted EBITDA rose") == [("TERM", "adjusted EBITDA")]
    assert tags(tagger, "S&P fell") == [("ORG", "S&P")]
    assert tags(tagger, "the 10-K filing") == [("TERM", "10-K")]  # not CARDINAL "10"


def test_people_of_the_shipped_lexicon_are_tagged_when_capitalised():
    shipped = FinanceTagger()
    assert tags(shipped, "Thank you, Timothy King, and good morning.") == [("PERSON", "Timothy King")]
    assert tags(shipped, "timothy king") == []  # a name is written with capitals, as a company is
    assert tags(shipped, "Timothy spoke") == []  # a first name alone is not the person


def test_tokens_inside_words_do_not_match(tagger):
    assert tags(tagger, "NVDAX and AAPLE and v2.5 and Q5") == []


def test_shipped_lexicon_tags_fast_on_a_whole_call():
    tagger = FinanceTagger()  # the shipped lexicon (hundreds of entries)
    sent = ("So in Q3 2024 revenue grew 12.5% to $4.2 billion, and free cash flow was 850 million dollars, "
            "up 50 bps, says the CEO of Apple. ")
    text = sent * 400  # ~8,000 words
    t0 = time.perf_counter()
    spans = tagger.tag(text)
    elapsed = time.perf_counter() - t0
    assert all(text[s.start:s.end] == s.text for s in spans)
    cats = {s.category for s in spans}
    assert {"PERIOD", "PERCENT", "MONEY", "BPS"} <= cats
    assert sum(s.text == "$4.2 billion" for s in spans) == 400
    assert elapsed < 2.0, elapsed
