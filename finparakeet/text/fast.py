"""The normaliser's fast path: run the rule pipeline only where a rule can act.

Most words of a transcript are plain words that no rule reads ("revenue", "grew", "the"). Every source chunk
(whitespace-separated) is classified once, by tokenising it alone with the real tokeniser and looking its words up in
vocabularies derived from the rules' own tables:

- ``p`` punctuation: no token at all ("-", "...");
- ``i`` inert: plain words only, none of which any rule reads;
- ``c`` companion: plain words, at least one of which a rule reads, but only next to a number or a code ("and", "a",
  "to", "point", "percent", "dollars", "quarter", months, lower-case letters, "I"...);
- ``t`` trigger: anything else: digits, symbols, acronyms, number words (whatever text2num reads as a number),
  spoken digits, decades ("nineties"), "a dollar" words, spelled capitals ("N V D A"), Roman-numeral context words.

A region is a maximal run of ``c``/``t``/``p`` chunks holding at least one trigger, widened by one inert chunk on
each side (the margin: rules peek at a number's neighbours, e.g. "COVID dash nineteen" reads the case of the word
before "dash"). The regions are tokenised, joined into one token stream (an inert ``g`` token stands for each inert
stretch between two regions) and run through the full pipeline once; everything outside them is its plain words.

Why this is exact. Every rule matches a pattern of consecutive tokens each of which must be a number, a code or a
word of its tables, and text2num's ``find_numbers`` resets on a token it cannot parse; so an inert token is never
rewritten, never merged, and no pattern reaches across it except to read the immediate neighbour of a number or code
(kept by the margin). A run of companions with no trigger fires nothing. Hence deleting inert stretches flanked by
inert tokens changes no other token's outcome. ``tests/test_normalizer_fast.py`` checks the fast path against the
full pipeline word for word (all of Earnings-21, and random mixes of every rule word).
"""

from __future__ import annotations

import ast
import inspect
import re
from itertools import accumulate, chain, repeat
from operator import add, sub
from typing import Callable

from text_to_num import find_numbers

from finparakeet.text import numbers, rules, spoken
from finparakeet.text import tables as T
from finparakeet.text.tokens import Tok, prepare_text, tokenize_range

INERT, UPPER, COMPANION, TRIGGER, PUNCT = "i", "u", "c", "t", "p"
_SPLIT = re.compile(r"(\s+)")  # the complement of the tokeniser's chunks (\S+)
# A region: a run of non-inert chunks with at least one trigger, and the inert word before it if that is in capitals.
_REGION = re.compile(r"u?[ctp]*t[ctp]*")
_CACHE_LIMIT = 1_000_000  # chunk classifications kept per normaliser (a long-running process clears them)


def _strings(obj: object) -> set[str]:
    """Every string inside a table (dict keys and values, tuple/set elements), split into words."""
    out: set[str] = set()
    if isinstance(obj, str):
        out.update(obj.split())
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out |= _strings(k) | _strings(v)
    elif isinstance(obj, (tuple, list, set, frozenset)):
        for x in obj:
            out |= _strings(x)
    return out


def _code_literals(module: object) -> tuple[set[str], set[str]]:
    """A rule module's string literals (docstrings aside) split into words, and the ``tables`` it reads (``T.X``)."""
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    literals: set[str] = set()
    tables: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs:
            literals.update(n.value.split())
        elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "T":
            tables.add(n.attr)
    return literals, tables


def rule_words() -> frozenset[str]:
    """All words the rule passes read (lower-case, as tokens are): every table of ``tables`` they use, their own
    module-level word sets, and every string literal in their code. (Tables only the tokeniser reads, such as the
    contractions, act inside one chunk and are seen by tokenising it.)"""
    words: set[str] = set()
    for module in (spoken, numbers, rules):
        literals, tables = _code_literals(module)
        words |= literals
        for name in tables:
            words |= _strings(getattr(T, name))
        for name, value in vars(module).items():
            if not name.startswith("__") and isinstance(value, (dict, tuple, list, set, frozenset)):
                words |= _strings(value)
    return frozenset(w.lower() for w in words)


# Words that start a rewrite with no number next to them. Number words text2num reads are added by probing it.
TRIGGER_WORDS: frozenset[str] = frozenset({
    *T.UNIT_WORDS,  # spoken digits, "oh" among them ("oh point nine")
    *T.TEEN_TENS_WORDS,
    *T.DECADE_WORDS,  # "the nineties" -> 90s
    *T.A_CURRENCY,  # "a dollar" -> $1
    *T.ROMAN_CONTEXT,  # "Phase I" -> phase 1 ("I" alone is a companion)
})


class _Probe:
    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def text(self) -> str:
        return self._text

    def nt_separated(self, previous: object) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return False


def _occurrences(words: list[str]) -> list[tuple[int, int, str]]:
    return [(o.start, o.end, o.text) for o in find_numbers([_Probe(w) for w in words], "en", 0.0)]


_NOT_NUMBER_CONTEXT = _occurrences(["twenty", spoken._NOT_A_NUMBER, "one"])


def text2num_role(word: str) -> str:
    """How text2num reads ``word``: TRIGGER when it is a number by itself ("one", "thousands", "third"),
    COMPANION when it joins numbers ("and", "point": "twenty and one" is 21), else INERT."""
    if _occurrences([word]):
        return TRIGGER
    if _occurrences(["twenty", word, "one"]) != _NOT_NUMBER_CONTEXT:
        return COMPANION
    return INERT


class WordClasses:
    """Word -> INERT / COMPANION / TRIGGER, with text2num's reading of each new word probed once."""

    def __init__(self) -> None:
        self.companions = rule_words()
        self._t2n: dict[str, str] = {}

    def word(self, text: str, upper: bool) -> str:
        if not text.replace("'", "").isalpha():
            return TRIGGER  # digits, symbols ("%" alone reads "percent")
        if text in TRIGGER_WORDS:
            return TRIGGER
        role = self._t2n.get(text)
        if role is None:
            role = self._t2n[text] = text2num_role(text)
        if role == TRIGGER:
            return TRIGGER
        if len(text) == 1:
            # Spelled capitals join ("N V D A"); a run of only "I"s and "A"s does not, and lower-case letters never.
            return TRIGGER if upper and text not in T.LETTER_WORDS else COMPANION
        if role == COMPANION or text in self.companions:
            return COMPANION
        return INERT


class FastPath:
    """The fast normaliser for one ``expand_contractions`` setting; ``pipeline`` is the full rule pipeline on a
    token list and ``render`` turns its output into (words, starts, ends)."""

    def __init__(self, expand_contractions: bool, pipeline: Callable[[list[Tok]], list[Tok]]) -> None:
        self.expand = expand_contractions
        self.pipeline = pipeline
        self.classes = WordClasses()
        # chunk -> class, its words, and its core span relative to the chunk (leading/trailing punctuation cut)
        self._cls: dict[str, str] = {}
        self._words: dict[str, tuple[str, ...]] = {}
        self._lead: dict[str, int] = {}
        self._trail: dict[str, int] = {}

    def clear(self) -> None:
        """Forget the chunk classifications (they are a cache; text2num probes stay)."""
        for d in (self._cls, self._words, self._lead, self._trail):
            d.clear()

    def _classify(self, chunk: str) -> None:
        toks: list[Tok] = []
        if chunk.isalpha() and not (self.expand and chunk.lower() in T.CONTRACTIONS):
            # the tokeniser's own fast path for a plain word
            toks.append(Tok(chunk.lower(), 0, len(chunk), upper=chunk.isupper()))
        else:
            tokenize_range(chunk, 0, len(chunk), self.expand, toks)
        words = tuple(t.text for t in toks)
        lead = trail = 0
        if not toks:
            cls = PUNCT
        elif any(t.kind != "w" or (t.start, t.end) != (toks[0].start, toks[0].end) or not t.text for t in toks):
            cls = TRIGGER
        else:
            roles = {self.classes.word(t.text, t.upper) for t in toks}
            cls = (TRIGGER if TRIGGER in roles else COMPANION if COMPANION in roles
                   else UPPER if toks[-1].upper else INERT)
            lead, trail = toks[0].start, len(chunk) - toks[0].end
        if len(self._cls) >= _CACHE_LIMIT:
            self.clear()
        self._cls[chunk] = cls
        self._words[chunk] = words
        self._lead[chunk] = lead
        self._trail[chunk] = trail

    def normalize(self, text: str) -> tuple[list[str], list[int], list[int]]:
        """Normalised words of ``text`` with their source spans: (words, starts, ends)."""
        text = prepare_text(text)
        parts = _SPLIT.split(text)
        offsets = list(accumulate(map(len, parts)))
        chunks = parts[0::2]
        ends = offsets[0::2]
        starts = [0] + offsets[1::2]
        if not chunks[0]:  # leading whitespace
            del chunks[0], ends[0], starts[0]
        if chunks and not chunks[-1]:  # trailing whitespace
            del chunks[-1], ends[-1], starts[-1]
        cls_of = self._cls
        for c in chunks:
            if c not in cls_of:
                self._classify(c)
        classes = "".join(map(cls_of.__getitem__, chunks))
        lead, trail, words_of = self._lead, self._trail, self._words
        core_starts = list(map(add, starts, map(lead.__getitem__, chunks)))
        core_ends = list(map(sub, ends, map(trail.__getitem__, chunks)))
        chunk_words = list(map(words_of.__getitem__, chunks))
        counts = list(map(len, chunk_words))

        out_w: list[str] = []
        out_s: list[int] = []
        out_e: list[int] = []

        def plain(a: int, b: int) -> None:
            """The plain words of chunks [a, b) (no rule acts on them)."""
            out_w.extend(chain.from_iterable(chunk_words[a:b]))
            if counts[a:b].count(1) == b - a:  # one word per chunk (the usual case)
                out_s.extend(core_starts[a:b])
                out_e.extend(core_ends[a:b])
            else:
                out_s.extend(chain.from_iterable(map(repeat, core_starts[a:b], counts[a:b])))
                out_e.extend(chain.from_iterable(map(repeat, core_ends[a:b], counts[a:b])))

        regions = [m.span() for m in _REGION.finditer(classes)]
        if not regions:
            plain(0, len(chunks))
            return out_w, out_s, out_e
        plain(0, regions[0][0])
        toks: list[Tok] = []
        gaps: dict[int, tuple[int, int]] = {}  # id of a gap token -> the chunks it stands for
        prev_end = regions[0][0]
        for a, b in regions:
            if a > prev_end:
                gap = Tok("", 0, 0, kind="g")
                gaps[id(gap)] = (prev_end, a)
                toks.append(gap)
            tokenize_range(text, starts[a], ends[b - 1], self.expand, toks)
            prev_end = b
        for t in self.pipeline(toks):
            if t.kind == "n":
                words = numbers.render_number(t)
                out_w.extend(words)
                out_s.extend(repeat(t.start, len(words)))
                out_e.extend(repeat(t.end, len(words)))
            elif t.kind == "g":
                plain(*gaps[id(t)])
            elif t.text:
                out_w.append(t.text)
                out_s.append(t.start)
                out_e.append(t.end)
        plain(prev_end, len(chunks))
        return out_w, out_s, out_e


__all__ = ["FastPath", "WordClasses", "rule_words", "text2num_role", "TRIGGER_WORDS"]
