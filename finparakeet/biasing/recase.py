"""Re-case UPPERCASE key phrases for a cased model.

NeMo's boosting tree boosts the *token sequence* of each phrase, and Parakeet-TDT-0.6B-v2 writes cased text: the
phrase "GOLDMAN SACHS" boosts tokens the model only emits for shouted text, so an UPPERCASE list (Earnings-21's
``oracle_list.txt``, ``distractor_list.txt``) boosts nearly nothing until it is written "Goldman Sachs". The
scorer compares case-insensitively, so re-casing changes what is boosted, not how key phrases are counted.

Modes (``recase=``):

- ``none``: phrases as written (right for lists already written as the model writes);
- ``title``: a rule per word — "Goldman Sachs & Co", "AT&T", "M&A", "3M", "O'Rourke", "Hershey's", "Coca-Cola",
  "Derik de Bruin"; words without a vowel, one-word phrases of up to 3 letters and dotted abbreviations stay
  capitals ("DS", "EV", "J.J");
- ``auto``: known written forms first — whole phrases, then words — from the finance lexicon (companies, funds,
  indices, terms with their aliases: "ABBVIE" -> "AbbVie", "JPMORGAN CHASE" -> "JPMorgan Chase") and from any texts
  given (their majority casing), then the ``title`` rule for the rest.

Only phrases with no lower-case letter are touched: a phrase someone already cased is kept as is.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from finparakeet.lexicon import load_lexicon
from finparakeet.text.tickers import word_tickers

logger = logging.getLogger(__name__)

RECASE_MODES = ("none", "title", "auto")

# Lower-case inside a name ("Sports and Outdoors", "Derik de Bruin"), never as the first word.
_LOWER_WORDS = frozenset("""
a an and as at by for from in into of on or the to via with de del della der des di da du la le van von
""".split())
_TITLE_WORDS = frozenset({"co", "inc", "corp", "ltd", "llp", "plc"})  # "Co", not "CO"
_VOWELS = set("AEIOUY")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class CaseIndex:
    """Known written forms: casefolded phrase -> its form, casefolded word -> its form."""

    phrases: Mapping[str, str] = field(default_factory=dict)
    words: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_forms(cls, forms: Iterable[str], word_forms: Iterable[str] | None = None) -> "CaseIndex":
        """Index ``forms`` as phrases and the words of ``word_forms`` (default: ``forms``); the most frequent casing
        of each wins, ties to the first seen."""
        forms = list(forms)
        return cls(_majority(forms), _majority(w for f in (forms if word_forms is None else word_forms)
                                               for w in _WORD.findall(f)))

    @classmethod
    def from_lexicon(cls, lexicon=None) -> "CaseIndex":
        """Written forms and aliases of the finance lexicon. Ticker symbols index as whole phrases only: as words
        they would upper-case everyday words ("NOW", "ALL", "IT")."""
        lex = lexicon if lexicon is not None else load_lexicon()
        names = [w for e in lex.entries if e.kind != "ticker" for w in (e.written, *e.aliases)]
        tickers = [e.written for e in lex.entries if e.kind == "ticker"]
        return cls.from_forms(names + tickers, word_forms=names)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "CaseIndex":
        """Word casing as it occurs in transcripts (e.g. the references of the calls the list is for)."""
        return cls({}, _majority(w.strip(".,;:!?\"()[]") for t in texts for w in _WORD.findall(t)))

    def merged(self, other: "CaseIndex") -> "CaseIndex":
        """This index, with ``other`` filling what it lacks."""
        return CaseIndex({**other.phrases, **self.phrases}, {**other.words, **self.words})


def _majority(items: Iterable[str]) -> dict[str, str]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for s in items:
        if s and any(c.isalpha() for c in s):
            counts[s.casefold()][s] += 1
    # Counter.most_common keeps insertion order among equal counts: ties go to the first form seen
    return {k: c.most_common(1)[0][0] for k, c in counts.items()}


def _is_shouted(phrase: str) -> bool:
    return any(c.isalpha() for c in phrase) and not any(c.islower() for c in phrase)


def _title_part(part: str) -> str:
    """One apostrophe- and hyphen-free piece: "GOLDMAN" -> "Goldman"."""
    return part[:1].upper() + part[1:].lower()


def _title_word(word: str, first: bool, alone: bool) -> str:
    if "'" in word and "&" not in word:
        head, *rest = word.split("'")
        # O'ROURKE -> O'Rourke, D'AMBROSIA -> D'Ambrosia; HERSHEY'S -> Hershey's, BJ'S -> BJ's; LANDS' -> Lands'
        return "'".join([_title_word(head, first, False) if len(head) > 1 else head]
                        + [p.lower() if p.upper() == "S" else _title_word(p, False, False) for p in rest])
    if "-" in word and "&" not in word:
        return "-".join(_title_word(p, True, False) if p else p for p in word.split("-"))
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return word
    if "&" in word or any(c.isdigit() for c in word) or "." in word.rstrip(".") or (
            word.endswith(".") and len(letters) == 1):
        return word  # AT&T, M&A, 3M, 10-K, J.J, "B." (an initial)
    if not _VOWELS & set(c.upper() for c in letters):
        return word  # DS, DT, NV, LLC: letters, not a word
    if alone and len(letters) <= 3:
        return word  # a one-word phrase this short is an acronym: BI, EV, AGA
    low = word.lower()
    if not first and low in _LOWER_WORDS:
        return low
    if low.rstrip(".") in _TITLE_WORDS:
        return _title_part(word)
    if not alone and len(letters) <= 2:
        return word  # "GM", "UK" inside a name
    return _title_part(word)


def recase_phrase(phrase: str, mode: str = "auto", index: CaseIndex | None = None) -> str:
    """``phrase`` re-cased by ``mode`` (see the module docstring); phrases with a lower-case letter are kept."""
    if mode not in RECASE_MODES:
        raise ValueError(f"recase must be one of {RECASE_MODES}, got {mode!r}")
    if mode == "none" or not _is_shouted(phrase):
        return phrase
    if mode == "auto" and index is not None:
        known = index.phrases.get(phrase.casefold())
        if known is not None:
            return known
    words = _WORD.findall(phrase)
    out = []
    for i, w in enumerate(words):
        known = index.words.get(w.casefold()) if mode == "auto" and index is not None else None
        if known is not None and known.islower():
            known = None  # only names teach a word's casing ("McMoRan"): "goods" in a term must not make "Sporting goods"
        out.append(known if known is not None else _title_word(w, first=i == 0, alone=len(words) == 1))
    return " ".join(out)


def recase_phrases(phrases: Iterable[str], mode: str = "auto", index: CaseIndex | None = None) -> list[str]:
    """``recase_phrase`` for each phrase; ``auto`` without an index uses the finance lexicon's."""
    if mode == "auto" and index is None:
        index = CaseIndex.from_lexicon()
    return [recase_phrase(p, mode, index) for p in phrases]


def warn_word_tickers(phrases: Iterable[str]) -> list[str]:
    """Warn about the tickers of a bias list that are common English words ("ON", "IT", "ALL", "NOW"): scoring
    matches them only as written, and boosting them may make the model write the ticker for the word. Returns
    them."""
    found = word_tickers(phrases)
    if found:
        logger.warning("%d ticker(s) in the bias list are also common English words and match only as written "
                       "(\"on\" is not the ticker ON): %s", len(found), ", ".join(found[:20])
                       + (", ..." if len(found) > 20 else ""))
    return found
