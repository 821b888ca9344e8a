"""The shipped finance lexicon: size, integrity, espeak-safe spoken forms, and the loader's errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from finparakeet.entities import ORG, PERSON, TERM, TICKER
from finparakeet.lexicon import Lexicon, LexiconEntry, load_lexicon, spell_letters, spoken_problem

# Share classes: two tickers, one company.
SAME_COMPANY = {"Alphabet": {"GOOGL", "GOOG"}, "Berkshire Hathaway": {"BRK.B", "BRK.A"}}
SECTORS = {"Communication Services", "Consumer Discretionary", "Consumer Staples", "Energy", "Financials",
           "Health Care", "Industrials", "Information Technology", "Materials", "Real Estate", "Utilities"}


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return load_lexicon()


def test_sizes_meet_the_minimums(lex: Lexicon) -> None:
    kinds = Counter(e.kind for e in lex.entries)
    assert kinds["company"] >= 500
    assert kinds["ticker"] >= kinds["company"]
    assert kinds["index"] + kinds["etf"] + kinds["fund"] >= 50
    assert kinds["index"] >= 20 and kinds["etf"] >= 20 and kinds["fund"] >= 3
    assert kinds["term"] >= 200
    assert kinds["person"] >= 200  # the executives and analysts of synthetic calls
    assert {e.category for e in lex.entries} == {TICKER, ORG, TERM, PERSON}


def test_ids_are_unique_and_stable(lex: Lexicon) -> None:
    ids = [e.id for e in lex.entries]
    assert len(ids) == len(set(ids))
    for e in lex.entries:
        assert e.id == f"{e.kind}:{e.ticker if e.kind in ('ticker', 'company') else e.written}"
    with pytest.raises(ValueError, match="duplicate lexicon id"):
        Lexicon((lex.entries[0], lex.entries[0]))


_SAFE = re.compile(r"[A-Za-z']+(?:[ -][A-Za-z']+)*")


def test_every_spoken_form_is_espeak_safe(lex: Lexicon) -> None:
    bad = []
    for e in lex.entries:
        assert e.spoken, e.id
        for s in e.spoken:
            words = re.split(r"[ -]", s)
            if (not _SAFE.fullmatch(s) or "A" in words
                    or any(len(w) > 1 and w.replace("'", "").isupper() for w in words)):
                bad.append((e.id, s))
    assert not bad


@pytest.mark.parametrize("text", ["S&P 500", "ten-K ", "NVDA", "N V D A shares", "$4", "10-K", "ten  K", "E.T.F."])
def test_spoken_problem_flags_what_espeak_misreads(text: str) -> None:
    assert spoken_problem(text)


@pytest.mark.parametrize("text", ["S and P five hundred", "N V D eh", "McDonald's", "Phillips sixty-six", "ten K"])
def test_spoken_problem_passes_voice_text(text: str) -> None:
    assert spoken_problem(text) is None


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_espeak_reads_eh_as_the_letter_and_a_lone_a_as_the_article() -> None:
    def phonemes(text: str) -> str:
        return subprocess.run(["espeak-ng", "-v", "en-us", "-q", "-x", text], capture_output=True, text=True,
                              check=True).stdout

    assert "'eI 'Em d'i:" in phonemes("shares of eh M D rose")
    assert "'eI" not in phonemes("shares of A M D rose")  # why the letter A is written "eh"


def test_tickers_are_capitals_and_link_their_company(lex: Lexicon) -> None:
    for c in lex.by_kind("company"):
        t = lex.by_id[f"ticker:{c.ticker}"]
        assert t.written == c.ticker and t.category == TICKER
        assert c.sector in SECTORS and t.sector == c.sector
    for t in lex.by_kind("ticker"):
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(\.[A-Z])?", t.written), t.written
        assert lex.name_of(t.written) is not None, t.written


def test_written_forms_are_clean_and_unique_within_a_kind(lex: Lexicon) -> None:
    for e in lex.entries:
        for w in (e.written, *e.aliases):
            assert w == w.strip() and "  " not in w and "\t" not in w and "|" not in w, (e.id, w)
    for kind in ("ticker", "company", "index", "etf", "fund", "term"):
        counts = Counter(e.written for e in lex.by_kind(kind))
        dups = {w for w, n in counts.items() if n > 1}
        assert dups == (set(SAME_COMPANY) if kind == "company" else set()), kind
    for name, tickers in SAME_COMPANY.items():
        assert {e.ticker for e in lex.by_kind("company") if e.written == name} == tickers


def test_a_written_form_shared_across_kinds_is_a_company_named_by_its_ticker(lex: Lexicon) -> None:
    owners: dict[str, list[LexiconEntry]] = {}
    for e in lex.entries:
        owners.setdefault(e.written, []).append(e)
    for w, es in owners.items():
        if len({e.kind for e in es}) > 1:
            assert {e.kind for e in es} == {"ticker", "company"} and {e.ticker for e in es} == {w}, w


def test_funds_have_valid_kinds_and_their_tickers_are_entries(lex: Lexicon) -> None:
    funds = lex.by_kind("index", "etf", "fund")
    assert all(e.category == ORG for e in funds)
    for e in funds:
        if e.ticker:
            assert lex.by_id[f"ticker:{e.ticker}"].ticker == e.ticker
            assert lex.name_of(e.ticker) == e
    assert all(e.ticker for e in lex.by_kind("etf"))
    assert lex.name_of("SPY").written == "SPDR S&P 500 ETF"


def test_spot_checks(lex: Lexicon) -> None:
    assert lex.name_of("NVDA").written == "NVIDIA"
    assert lex.by_id["ticker:NVDA"].spoken == ("N V D eh",)
    assert lex.by_id["company:JPM"].written == "JPMorgan Chase"
    assert lex.by_id["company:GOOGL"].written == "Alphabet" and "Google" in lex.by_id["company:GOOGL"].aliases
    assert lex.by_id["ticker:BRK.B"].spoken[0] == "B R K dot B"
    assert "meta" in lex.by_id["ticker:META"].spoken
    assert lex.by_id["company:T"].written == "AT&T" and lex.by_id["company:T"].spoken == ("eh T and T",)
    assert lex.by_id["index:S&P 500"].spoken[0] == "S and P five hundred"
    assert lex.by_id["term:10-K"].spoken[0] == "ten K"
    assert lex.by_id["term:EBITDA"].expansion.startswith("earnings before interest")
    assert lex.by_id["term:free cash flow"].spoken == ("free cash flow",)


@pytest.mark.parametrize("written", [
    "revenue", "gross margin", "operating income", "EBITDA", "adjusted EBITDA", "EPS", "diluted EPS",
    "free cash flow", "capex", "opex", "10-K", "10-Q", "8-K", "S-1", "proxy statement", "guidance", "headwinds",
    "tailwinds", "year-over-year", "sequentially", "run rate", "backlog", "book-to-bill", "basis points",
    "yield curve", "Fed funds rate", "SOFR", "LIBOR", "net interest margin", "CET1 ratio", "combined ratio", "FFO",
    "AFFO", "NOI", "ARR", "NRR", "churn", "CAC", "LTV"])
def test_terms_cover_the_usual_jargon(lex: Lexicon, written: str) -> None:
    assert f"term:{written}" in lex.by_id


def test_spell_letters() -> None:
    assert spell_letters("NVDA") == "N V D A"
    assert spell_letters("BRK.B") == "B R K B"
    assert spell_letters("nvda", voice=True) == "N V D eh"
    assert spell_letters("A2", voice=True) == "eh two"


def test_helpers(lex: Lexicon) -> None:
    assert {e.kind for e in lex.by_ticker["NVDA"]} == {"ticker", "company"}
    forms = lex.written_forms("company")
    assert len(forms) == len(set(forms))
    assert {"NVIDIA", "Nvidia", "Alphabet", "Google"} <= set(forms) and "NVDA" not in forms
    assert lex.name_of("NOPE") is None


# --- loader errors ---------------------------------------------------------------------------------------------

COMPANIES = "ticker\tcompany\tspoken_ticker\tspoken_company\taliases\tsector\nNVDA\tNVIDIA\t\ten vidia\t\tTech\n"
FUNDS = "# a comment\nwritten\tkind\tspoken\taliases\tticker\nS&P 500\tindex\tS and P five hundred\tS&P\t\n"
TERMS = "written\tspoken\texpansion\n10-K\tten K\tannual report\n"


def _write(d: Path, companies: str = COMPANIES, funds: str = FUNDS, terms: str = TERMS) -> Path:
    for name, text in (("companies", companies), ("funds", funds), ("terms", terms)):
        (d / f"{name}.tsv").write_text(text, encoding="utf-8")
    return d


def test_loader_reads_a_small_lexicon(tmp_path: Path) -> None:
    lx = load_lexicon(_write(tmp_path))
    assert [e.id for e in lx.entries] == ["ticker:NVDA", "company:NVDA", "index:S&P 500", "term:10-K"]
    assert lx.by_id["ticker:NVDA"].spoken == ("N V D eh",) and lx.by_id["index:S&P 500"].aliases == ("S&P",)


@pytest.mark.parametrize("kwargs, where, what", [
    ({"companies": COMPANIES.replace("sector", "industry")}, "companies.tsv:1", "header"),
    ({"funds": FUNDS + "Foo Fund\tmutual\t\t\t\n"}, "funds.tsv:4", "kind must be"),
    ({"funds": FUNDS + "SPDR Fund\tetf\tspider fund\t\tspy\n"}, "funds.tsv:4", "ticker 'spy'"),
    ({"terms": TERMS + "S-1\t\t\n"}, "terms.tsv:3", "spoken form 'S-1'"),
    ({"terms": TERMS + "AAPL\tA A P L\t\n"}, "terms.tsv:3", 'lone "A"'),
    ({"terms": TERMS + "10-K\tten K\t\n"}, "terms.tsv:3", "duplicate lexicon id 'term:10-K'"),
    ({"companies": COMPANIES + "AMD\t\n"}, "companies.tsv:3", "no company"),
    ({"companies": COMPANIES + "\tAMD\n"}, "companies.tsv:3", "first cell"),
    ({"terms": TERMS + "a\tb\tc\td\n"}, "terms.tsv:3", "up to 3"),
    ({"terms": "# only a comment\n"}, "terms.tsv", "no header"),
])
def test_loader_errors_name_the_file_and_line(tmp_path: Path, kwargs: dict, where: str, what: str) -> None:
    with pytest.raises(ValueError) as err:
        load_lexicon(_write(tmp_path, **kwargs))
    assert f"{tmp_path / where}" in str(err.value) and what in str(err.value)


def test_people_are_full_names_and_optional(lex: Lexicon, tmp_path: Path) -> None:
    people = lex.by_kind("person")
    assert all(e.category == PERSON and len(e.written.split()) == 2 and e.written.istitle() for e in people)
    assert lex.by_id["person:" + people[0].written].spoken == (people[0].written,)  # read as written
    from finparakeet.lexicon.loader import DATA_DIR
    for name in ("companies.tsv", "funds.tsv", "terms.tsv"):  # a lexicon of one's own without people.tsv
        shutil.copy(DATA_DIR / name, tmp_path / name)
    assert not load_lexicon(tmp_path).by_kind("person")
    (tmp_path / "people.tsv").write_text("written\tspoken\taliases\nJane Doe\tJane Doh\t\nJane Doe\t\t\n")
    with pytest.raises(ValueError, match=r"people\.tsv:3: duplicate lexicon id 'person:Jane Doe'"):
        load_lexicon(tmp_path)
