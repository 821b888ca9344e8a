"""The normaliser's fast path: run the rule pipeline only where a rule can act.

Most words of a transcript are plain words that no rule reads ("revenue", "grew", "the"). Every source chunk
(whitespace-separated) is classified once, by tokenising it alone with the real tokeniser and looking its words up in
vocabularies derived from the rules' own tables and from text2num:

- ``p`` punctuation: no token at all ("-", "...");
- ``i`` inert: plain words none of which any rule reads; ``u`` the same, ending in a word in capitals ("COVID");
- ``c`` companion: plain words, at least one of which a rule reads, but only next to a number or a code ("and", "a",
  "to", "point", "percent", "dollars", "quarter", months, single letters, "I"...);
- ``t`` trigger: anything else: digits, symbols, acronyms, number words (whatever text2num reads as a number),
  spoken digits, decades ("nineties"), "a dollar" words, spelled capitals ("N V D A"), Roman-numeral context words.

A region is a maximal run of ``c``/``t``/``p`` chunks holding at least one trigger, with the word before it when that
is a ``u`` ("COVID dash nineteen" drops the dash after a word in capitals). Each distinct region is tokenised and run
through the full pipeline (all new regions of a text in one stream, an inert ``g`` token between two), and its words
are remembered relative to its chunks; everything outside the regions is its chunks' plain words.

Why this is exact. Every rule matches consecutive tokens each of which must be a number, a code or a word of its
tables (or, for "dash", a word in capitals before it), and text2num's ``find_numbers`` resets on a token it cannot
read; a rule's first token also never depends on whether an inert word or nothing precedes it. So an inert token is
never rewritten or merged and no pattern reaches across it, a run of companions without a trigger fires nothing, and
a region's words depend on its own chunks only. ``tests/test_normalizer_fast.py`` checks the fast path against the
full pipeline (``FinanceNormalizer._normalize_full_with_spans``) word for word and span for span: all of
Earnings-21, and random mixes of every rule word, the normaliser's test phrases, plain words and punctuation.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
from bisect import bisect_right
from itertools import chain, repeat
from typing import Callable, Iterable

import numpy as np
from text_to_num import find_numbers

from finparakeet.text import numbers, rules, spoken
from finparakeet.text import tables as T
from finparakeet.text.tokens import _CHAR_MAP, _CHUNK, Tok, prepare_text, tokenize_range

INERT, UPPER, COMPANION, TRIGGER, PUNCT = "i", "u", "c", "t", "p"
# A region: a run of non-inert chunks with at least one trigger, and the inert word before it if that is in capitals.
_REGION = re.compile(r"u?[ctp]*t[ctp]*")
_CACHE_LIMIT = 1_000_000  # chunks (and regions) remembered per normaliser; past that the caches start afresh


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


@functools.lru_cache(maxsize=None)  # parses three modules' source: once per process
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
    *T.YEAR_KINDS,  # "fiscal year" -> fy
    *T.SPOKEN_ABBREVIATIONS,  # "YTD" -> year to date
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


def text2num_roles(words: list[str]) -> list[str]:
    """How text2num reads each word: TRIGGER when it is a number by itself ("one", "thousands", "third"),
    COMPANION when it joins numbers ("and", "point": "twenty and one" is 21), else INERT. One ``find_numbers`` call
    for all the words (a token it cannot read ends any number, so the probes do not interact)."""
    bar = spoken._NOT_A_NUMBER
    alone = {start // 2 for start, _, _ in _occurrences([x for w in words for x in (w, bar)])}
    rest = [k for k in range(len(words)) if k not in alone]
    joined = _occurrences([x for k in rest for x in ("twenty", words[k], "one", bar)])
    plain = {(4 * i + d, 4 * i + d + 1, v) for i in range(len(rest)) for d, v in ((0, "20"), (2, "1"))}
    joins = {rest[start // 4] for start, end, digits in joined if (start, end, digits) not in plain}
    return [TRIGGER if k in alone else COMPANION if k in joins else INERT for k in range(len(words))]


def text2num_role(word: str) -> str:
    """``text2num_roles`` of one word."""
    return text2num_roles([word])[0]


class WordClasses:
    """Word -> INERT / COMPANION / TRIGGER, with text2num's reading of each new word probed once."""

    def __init__(self, companions: frozenset[str] | None = None) -> None:
        self.companions = rule_words() if companions is None else companions
        self._t2n: dict[str, str] = {}

    def learn(self, words: Iterable[str]) -> None:
        """Probe text2num for the words not seen yet (in one batch)."""
        new = [w for w in dict.fromkeys(words) if w not in self._t2n and w not in TRIGGER_WORDS
               and w.replace("'", "").isalpha()]
        if new:
            self._t2n.update(zip(new, text2num_roles(new)))

    def word(self, text: str, upper: bool) -> str:
        if not text.replace("'", "").isalpha():
            return TRIGGER  # digits, symbols ("%" alone reads "percent")
        if text in TRIGGER_WORDS:
            return TRIGGER
        role = self._t2n.get(text)
        if role is None:
            self.learn([text])
            role = self._t2n[text]
        if role == TRIGGER:
            return TRIGGER
        if len(text) == 1:
            # Spelled capitals join ("N V D A"); a run of only "I"s and "A"s does not, and lower-case letters never.
            return TRIGGER if upper and text not in T.LETTER_WORDS else COMPANION
        if role == COMPANION or text in self.companions:
            return COMPANION
        return INERT


# A region's result: its words, and per word where its span lies relative to the region's chunks: (chunk of its
# start, offset, chunk of its end, offset).
_RegionWords = tuple[tuple[str, ...], tuple[tuple[int, int, int, int], ...]]
_LEAD_SHIFT, _TRAIL_SHIFT, _FIELD = 40, 20, (1 << 20) - 1  # a chunk's code: lead << 40 | trail << 20 | word count
_MAPPED = re.compile("[" + re.escape("".join(map(chr, _CHAR_MAP))) + "]")


class _Caches:
    """What a FastPath learns from texts: per chunk its class, words and code (``_LEAD_SHIFT``: its core span without
    leading and trailing punctuation, and its number of words); per region (a chunk, or a tuple of chunks) its
    words."""

    __slots__ = ("cls", "words", "code", "regions")

    def __init__(self) -> None:
        self.cls: dict[str, str] = {}
        self.words: dict[str, tuple[str, ...]] = {}
        self.code: dict[str, int] = {}
        self.regions: dict[object, _RegionWords] = {}


class FastPath:
    """The fast normaliser for one ``expand_contractions`` setting; ``pipeline`` is the full rule pipeline on a
    token list.

    Two caches make repeated text cheap: the class of each distinct chunk, and the normalised words of each distinct
    region (a region's words depend on its chunks only: the inert words around it stop every rule). ``clear()``
    empties them (a call under way keeps the caches it started with); they are also emptied when they grow past a
    bound, and are not pickled.
    """

    def __init__(self, expand_contractions: bool, pipeline: Callable[[list[Tok]], list[Tok]]) -> None:
        self.expand = expand_contractions
        self.pipeline = pipeline
        self.classes = WordClasses()
        self._caches = _Caches()

    def __getstate__(self) -> dict:
        return {"expand": self.expand, "pipeline": self.pipeline}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["expand"], state["pipeline"])

    def clear(self) -> None:
        """Forget what was learnt from earlier texts: chunk classes, region results, text2num probes."""
        self._caches = _Caches()
        self.classes = WordClasses(self.classes.companions)

    def _classify(self, caches: _Caches, chunks: list[str]) -> None:
        """Classify new chunks (distinct, not yet known)."""
        expand, contractions = self.expand, T.CONTRACTIONS
        tokenised: list[list[tuple[str, bool, int, int, str]]] = []
        for c in chunks:
            if c.isalpha() and not (expand and c.lower() in contractions):
                # the tokeniser's own fast path for a plain word
                tokenised.append([(c.lower(), c.isupper(), 0, len(c), "w")])
            else:
                toks: list[Tok] = []
                tokenize_range(c, 0, len(c), expand, toks)
                tokenised.append([(t.text, t.upper, t.start, t.end, t.kind) for t in toks])
        classes = self.classes
        classes.learn(t[0] for toks in tokenised for t in toks if t[4] == "w")
        for c, toks in zip(chunks, tokenised):
            code = 0
            if not toks:
                cls = PUNCT
            elif len(c) > _FIELD or any(kind != "w" or (a, b) != toks[0][2:4] or not w for w, _, a, b, kind in toks):
                cls = TRIGGER
            else:
                roles = {classes.word(w, upper) for w, upper, _, _, _ in toks}
                cls = (TRIGGER if TRIGGER in roles else COMPANION if COMPANION in roles
                       else UPPER if toks[-1][1] else INERT)
                code = toks[0][2] << _LEAD_SHIFT | (len(c) - toks[0][3]) << _TRAIL_SHIFT | len(toks)
            caches.cls[c] = cls
            caches.words[c] = tuple(t[0] for t in toks)
            caches.code[c] = code

    def _run_regions(self, caches: _Caches, text: str, starts: np.ndarray, ends: np.ndarray,
                     regions: dict[object, tuple[int, int]]) -> None:
        """Normalise new regions (key -> chunk range [a, b) of ``text``; chunk spans ``starts``/``ends``) in one
        pipeline run, and remember them."""
        spans = list(regions.values())
        firsts = [a for a, _ in spans]
        starts = starts.tolist()
        ends = ends[[b - 1 for _, b in spans]].tolist()
        toks: list[Tok] = []
        for k, (a, end) in enumerate(zip(firsts, ends)):
            if k:
                toks.append(Tok("", 0, 0, kind="g"))  # an inert stretch stands between two regions
            tokenize_range(text, starts[a], end, self.expand, toks)
        results: list[_RegionWords] = []
        words: list[str] = []
        where: list[tuple[int, int, int, int]] = []
        k = 0
        chunk_starts = starts[spans[0][0]:spans[0][1]]
        for t in self.pipeline(toks):
            if t.kind == "g":
                results.append((tuple(words), tuple(where)))
                words, where = [], []
                k += 1
                chunk_starts = starts[spans[k][0]:spans[k][1]]
                continue
            out = numbers.render_number(t) if t.kind == "n" else (t.text,) if t.text else ()
            if out:
                i = bisect_right(chunk_starts, t.start) - 1
                j = bisect_right(chunk_starts, t.end - 1) - 1
                words.extend(out)
                where.extend(repeat((i, t.start - chunk_starts[i], j, t.end - chunk_starts[j]), len(out)))
        results.append((tuple(words), tuple(where)))
        if len(results) != len(regions):  # pragma: no cover - a rule that drops an inert token
            raise AssertionError("the rule pipeline dropped or added a gap token")
        caches.regions.update(zip(regions, results))

    def normalize(self, text: str) -> tuple[list[str], list[int], list[int]]:
        """Normalised words of ``text`` with their source spans: (words, starts, ends)."""
        if _MAPPED.search(text):
            text = prepare_text(text)
        chunks = text.split()  # the tokeniser's chunks (\S+: str.split and re's \s agree on whitespace)
        n = len(chunks)
        if not n:
            return [], [], []
        caches = self._caches
        if len(caches.cls) > _CACHE_LIMIT or len(caches.regions) > _CACHE_LIMIT:
            self.clear()
            caches = self._caches
        cls_of = caches.cls
        try:
            classes = "".join(map(cls_of.__getitem__, chunks))
        except KeyError:
            self._classify(caches, list(set(chunks).difference(cls_of)))
            classes = "".join(map(cls_of.__getitem__, chunks))
        codes = np.fromiter(map(caches.code.__getitem__, chunks), np.int64, n)
        # Chunk spans: with one whitespace character between chunks (the usual case) they follow from the lengths.
        lens = np.fromiter(map(len, chunks), np.int64, n)
        first = len(text) - len(text.lstrip())
        if len(text.rstrip()) - first == int(lens.sum()) + n - 1:
            starts = np.cumsum(lens + 1) - (lens + 1) + first
        else:
            starts = np.fromiter((m.start() for m in _CHUNK.finditer(text)), np.int64, n)
        ends = starts + lens
        core_starts = starts + (codes >> _LEAD_SHIFT)
        core_ends = ends - ((codes >> _TRAIL_SHIFT) & _FIELD)
        counts = codes & _FIELD

        words_of = caches.words
        spans = [m.span() for m in _REGION.finditer(classes)]
        if not spans:
            words = list(chain.from_iterable(map(words_of.__getitem__, chunks)))
            return words, np.repeat(core_starts, counts).tolist(), np.repeat(core_ends, counts).tolist()

        keys = [chunks[a] if b - a == 1 else tuple(chunks[a:b]) for a, b in spans]
        memo = caches.regions
        missing = {key: span for key, span in zip(keys, spans) if key not in memo}
        if missing:
            self._run_regions(caches, text, starts, ends, missing)
        # A region's words replace its chunks' plain words: its first chunk carries them all.
        chunk_words = list(map(words_of.__getitem__, chunks))
        firsts: list[int] = []
        inner: list[int] = []
        results = [memo[key] for key in keys]
        for (a, b), (region_words, _) in zip(spans, results):
            chunk_words[a] = region_words
            firsts.append(a)
            if b - a > 1:
                chunk_words[a + 1:b] = repeat((), b - a - 1)
                inner.extend(range(a + 1, b))
        counts[firsts] = [len(r[0]) for r in results]
        counts[inner] = 0
        out_s = np.repeat(core_starts, counts)
        out_e = np.repeat(core_ends, counts)
        # ... and their spans, from where each word lies in its region's chunks.
        at = (np.cumsum(counts) - counts)[firsts].tolist()  # output index of each region's first word
        index: list[int] = []
        start_chunk: list[int] = []
        start_off: list[int] = []
        end_chunk: list[int] = []
        end_off: list[int] = []
        for a, p, (_, where) in zip(firsts, at, results):
            for k, (i, s, j, e) in enumerate(where):
                index.append(p + k)
                start_chunk.append(a + i)
                start_off.append(s)
                end_chunk.append(a + j)
                end_off.append(e)
        out_s[index] = starts[start_chunk] + start_off
        out_e[index] = starts[end_chunk] + end_off
        return list(chain.from_iterable(chunk_words)), out_s.tolist(), out_e.tolist()


__all__ = ["FastPath", "WordClasses", "rule_words", "text2num_role", "text2num_roles", "TRIGGER_WORDS"]
