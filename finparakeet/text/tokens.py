"""Tokeniser: source text -> ``Tok`` items with source spans, written numbers parsed, punctuation consumed.

Every later pass rewrites a ``list[Tok]``; a merge takes the union of its inputs' spans, a split gives each piece
the span of the token it came from. Punctuation is dropped here but remembered as ``sep`` (a boundary before the
token) so that number rules never join "five, ten" into 510.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from finparakeet.text import tables as T


@dataclass(slots=True)
class Tok:
    """One word on its way to the canonical form.

    ``kind``: "w" word, "n" number, "l" letters (an acronym or a run of spelled letters).
    A number has ``value`` (or ``digits`` for digit strings such as "007"), and may carry a currency
    symbol ``cur`` (written before it) and a ``unit`` ("%", "bps", "x") written after it.
    ``words`` holds the spoken number words a number came from (empty when it was written in digits).
    """

    text: str
    start: int
    end: int
    kind: str = "w"
    sep: bool = False
    upper: bool = False
    value: Decimal | None = None
    digits: str | None = None
    ordinal: bool = False
    cur: str = ""
    unit: str = ""
    words: tuple[str, ...] = ()

    def span_with(self, other: Tok) -> tuple[int, int]:
        return min(self.start, other.start), max(self.end, other.end)


# Same-length character mapping, so that spans into the mapped text are spans into the source.
_CHAR_MAP = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "—": "-", "‒": "-", "−": "-"})
_CHUNK = re.compile(r"\S+")
# Leading/trailing characters that are punctuation, not part of the word. "$ € £ ¥ % &" and a leading "-"/"+"
# (a sign) or "." (".25") are meaningful and stay.
_LEAD = re.compile(r"^[\"'(\[{<*#@~^_|\\]+")
_TRAIL = re.compile(r"[\"'\])}>*.,;:!?…_|\\-]+$")
# Punctuation marks that count as a boundary between words.
_BOUNDARY = frozenset(".,;:!?()[]{}\"…-")
_NUMBER = re.compile(
    r"^(?P<sign>[-+])?(?P<cur>US\$|USD\$|C\$|A\$|CHF|CNY|RMB|\$|€|£|¥|₹)?(?P<num>\d[\d,]*(?:\.\d+)?|\.\d+)"
    r"(?P<suf>%|bps|bpts|bp|x|k|mm|mn|m|bn|b|tn|t|st|nd|rd|th|¢|'s|s)?$",
    re.IGNORECASE,
)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_FRACTION = re.compile(r"^(\d{1,2})/(\d{1,2})(%?)$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_ACRONYM_DOTS = re.compile(r"^(?:[^\W\d_]\.){2,}[^\W\d_]?$")
_SPLIT_PARTS = re.compile(r"[-–/]+")
_PIECE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+(?:[.,]\d+)*%?|[$€£¥₹&%+@]")
# Symbols standing alone read as words ("Johnson & Johnson", "the %", "2 + 2").
_SYMBOL_WORDS = {"&": "and", "+": "plus", "@": "at"}
_SYMBOLS = frozenset("$€£¥₹%")
# Words that add nothing to the number they follow ("eight o'clock" = "8:00" = "eight").
_SILENT = frozenset({"o'clock"})
_ORDINAL_SUFFIX = frozenset({"st", "nd", "rd", "th"})


def parse_number(num: str) -> tuple[Decimal | None, str | None]:
    """Digits as written -> (value, None) or (None, digit string) for codes that are not quantities."""
    if "," in num:
        if not _THOUSANDS.match(num):
            return None, None
        num = num.replace(",", "")
    elif "." not in num:
        if len(num) > 1 and num[0] == "0":
            return None, num  # "007", "00": a code, keep its zeros
        # Seven or more bare digits are an identifier (phone, account) unless they end in round zeros.
        if len(num) >= 7 and len(num) - len(num.rstrip("0")) < 5:
            return None, num
    if num.startswith("."):
        num = "0" + num
    try:
        value = Decimal(num)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid digits
        return None, None
    # Past the largest scale there is no canonical "<mantissa> <scale>" form: such digits are an identifier.
    return (value, None) if value < T.MAX_VALUE else (None, num.partition(".")[0])


def _number_tok(m: re.Match[str], start: int, end: int) -> list[Tok] | None:
    value, digits = parse_number(m["num"])
    if value is None and digits is None:
        return None
    suf = (m["suf"] or "").lower()
    cur = T.CURRENCY_PREFIXES.get((m["cur"] or "").upper(), "")
    out: list[Tok] = []
    if m["sign"]:
        out.append(Tok("minus" if m["sign"] == "-" else "plus", start, end))
    tok = Tok("", start, end, kind="n", value=value, digits=digits, cur=cur)
    if suf in _ORDINAL_SUFFIX:
        if value is None and digits is not None and digits[0] != "0":
            value, tok.value, tok.digits = Decimal(digits), Decimal(digits), None  # "1000001st"
        if value is None or cur or value != value.to_integral_value():
            return None
        tok.ordinal = True
    elif suf in T.UNIT_SUFFIXES:
        tok.unit = T.UNIT_SUFFIXES[suf]
    elif suf in ("s", "'s"):  # "1990s", "90's": a decade (or a plural of numbers)
        if value is None or cur:
            return None
        tok.unit = "s"
    elif suf == "¢":
        if value is None:
            return None
        tok.value, tok.cur = value / 100, "$"
    elif suf:
        # "$10K", "4.2B", "3bn" are scaled amounts; "10K" (the filing), "3M" (the company) are names.
        if value is None or not (cur or "." in m["num"] or len(suf) == 2) \
                or value * T.MONEY_SUFFIX_SCALES[suf] >= T.MAX_VALUE:
            return None
        tok.value = value * T.MONEY_SUFFIX_SCALES[suf]
    out.append(tok)
    return out


def _word_toks(word: str, start: int, end: int, expand: bool) -> list[Tok]:
    """A word without digits: contractions expanded, lower-cased, case remembered."""
    low = word.lower()
    if low in _SILENT:
        return []
    upper = word.isupper()
    if not expand:
        return [Tok(low, start, end, upper=upper)]
    if low in T.CONTRACTIONS:
        return [Tok(w, start, end) for w in T.CONTRACTIONS[low]]
    if "'" in low:
        if low.endswith("n't") and len(low) > 3:
            return [Tok(low[:-3], start, end), Tok("not", start, end)]
        i = low.rfind("'")
        base, suf = low[:i], low[i:]
        if base and suf in T.CONTRACTION_SUFFIXES:
            return [Tok(base, start, end), Tok(T.CONTRACTION_SUFFIXES[suf], start, end)]
        if suf == "'s" and base in T.S_IS_HOSTS:
            return [Tok(base, start, end), Tok("is", start, end)]
    return [Tok(low, start, end, upper=upper)]


def _piece_toks(piece: str, start: int, end: int, expand: bool) -> list[Tok]:
    m = _NUMBER.match(piece)
    if m:
        toks = _number_tok(m, start, end)
        if toks is not None:
            return toks
    if piece in _SYMBOL_WORDS:
        return [Tok(_SYMBOL_WORDS[piece], start, end)]
    if piece in _SYMBOLS:
        return [Tok(piece, start, end)]
    if piece[0].isdigit():
        if piece.endswith("%"):  # "1,25%": not a thousands pattern; keep digits and unit apart
            return [Tok(piece[:-1], start, end, kind="n", digits=piece[:-1].replace(",", ""), unit="%")]
        return [Tok(p, start, end, kind="n", digits=p) for p in re.split(r"[.,]", piece) if p]
    return _word_toks(piece, start, end, expand)


def _chunk_toks(core: str, start: int, end: int, expand: bool) -> list[Tok]:
    """One whitespace-free chunk, outer punctuation removed -> its tokens (all with the chunk's span)."""
    m = _NUMBER.match(core)
    if m:
        toks = _number_tok(m, start, end)
        if toks is not None:
            return toks
    if expand and core.lower() in T.CONTRACTIONS:  # "'cause" before the apostrophe is split off
        return _word_toks(core, start, end, expand)
    if m := _TIME.match(core):
        # "8:00" -> 8, "4:05" -> 405: the same number as the spoken "eight" / "four oh five".
        hour, minute = int(m[1]), m[2]
        value = Decimal(hour) if minute == "00" else Decimal(hour * 100 + int(minute))
        return [Tok("", start, end, kind="n", value=value)]
    if (m := _FRACTION.match(core)) and 1 <= int(m[1]) < int(m[2]) <= 10:
        return [Tok("", start, end, kind="n", digits=f"{int(m[1])}/{int(m[2])}", unit=m[3])]  # "2/3", "5/8%"
    if _ACRONYM_DOTS.match(core):  # "U.S.", "e.g."
        letters = core.replace(".", "").lower()
        return [Tok(letters, start, end, kind="l" if len(letters) > 1 else "w", upper=core.isupper())]
    parts = [p for p in _SPLIT_PARTS.split(core) if p]
    if len(parts) > 1:
        out: list[Tok] = []
        for p in parts:
            out.extend(_chunk_toks(p, start, end, expand))
        # "3-5%" is a range: read the hyphen as "to" when it joins exactly two numbers.
        if len(parts) == 2 and len(out) == 2 and out[0].kind == out[1].kind == "n" and "-" in core:
            out.insert(1, Tok("to", start, end))
        return out
    pieces = _PIECE.findall(core)
    if len(pieces) == 1 and pieces[0] == core:
        return _piece_toks(core, start, end, expand)
    out = []
    for p in pieces:
        out.extend(_piece_toks(p, start, end, expand))
    return out


def prepare_text(text: str) -> str:
    """The text the tokeniser reads: typographic quotes and dashes mapped to ASCII, character for character."""
    return text.translate(_CHAR_MAP)


def tokenize(text: str, expand_contractions: bool = True) -> list[Tok]:
    """Source text -> tokens with spans; ``sep`` marks punctuation before a token."""
    out: list[Tok] = []
    tokenize_range(prepare_text(text), 0, len(text), expand_contractions, out)
    return out


def tokenize_range(text: str, pos: int, endpos: int, expand_contractions: bool, out: list[Tok]) -> None:
    """Tokenise the whitespace-separated chunks of ``text[pos:endpos]`` (``text`` from ``prepare_text``; ``pos`` and
    ``endpos`` at chunk boundaries) into ``out``, with spans into ``text``."""
    pending_sep = False
    for m in _CHUNK.finditer(text, pos, endpos):
        chunk, start, end = m.group(), m.start(), m.end()
        if chunk.isalpha():  # fast path for the common case: a plain word
            low = chunk.lower()
            if not (expand_contractions and low in T.CONTRACTIONS):
                out.append(Tok(low, start, end, sep=pending_sep, upper=chunk.isupper()))
                pending_sep = False
                continue
        lead = _LEAD.match(chunk)
        trail = _TRAIL.search(chunk)
        core_start = start + (lead.end() if lead else 0)
        core_end = end - (len(trail.group()) if trail else 0)
        core = text[core_start:core_end]
        # "'cause", "'em": the apostrophe is the contraction, not a quote.
        if lead and lead.group()[-1] == "'" and ("'" + core).lower() in T.CONTRACTIONS:
            core, core_start = "'" + core, core_start - 1
        # Keep the final dot of "U.S." and the dot of a trailing decimal: they belong to the token.
        if trail and trail.group()[0] == "." and _ACRONYM_DOTS.match(core + "."):
            core, core_end = core + ".", core_end + 1
        if lead and any(c in _BOUNDARY for c in lead.group()):
            pending_sep = True
        toks = _chunk_toks(core, core_start, core_end, expand_contractions) if core else []
        if core and not core.strip("-–"):
            pending_sep = True  # a free-standing dash is a pause
        if toks:
            toks[0].sep = toks[0].sep or pending_sep
            out.extend(toks)
            pending_sep = False
        tail = trail.group() if trail else ""
        if any(c in _BOUNDARY for c in tail):
            pending_sep = True
