"""Word tables for the finance normaliser: data only, no logic.

Keys are lower-case. Multi-word phrases are tuples of words, matched longest first.
"""

from __future__ import annotations

from decimal import Decimal

# Spoken currency words after a number -> the symbol written before it. Currencies without a symbol of their own
# use their lower-case ISO code ("CHF 85" = "85 Swiss francs" -> "chf85").
CURRENCY_PHRASES: dict[tuple[str, ...], str] = {
    ("dollar",): "$", ("dollars",): "$", ("buck",): "$", ("bucks",): "$", ("us", "dollars"): "$",
    ("euro",): "€", ("euros",): "€",
    ("pound",): "£", ("pounds",): "£", ("pounds", "sterling"): "£", ("british", "pounds"): "£",
    ("yen",): "¥", ("rupee",): "₹", ("rupees",): "₹",
    ("franc",): "chf", ("francs",): "chf", ("swiss", "francs"): "chf",
    ("canadian", "dollars"): "c$", ("australian", "dollars"): "a$",
    ("yuan",): "cny", ("renminbi",): "cny",
}
# Singular currency words that "a" may count ("a dollar" = "$1"); plural forms never follow "a".
A_CURRENCY = frozenset({"dollar", "buck", "euro"})
CENT_WORDS = frozenset({"cent", "cents"})
# Written currency prefixes, glued ("US$4.2", "C$10") or standing before the number ("CHF 85", "USD 10") ->
# canonical prefix. Matched case-insensitively; letter codes only when written in capitals.
CURRENCY_PREFIXES: dict[str, str] = {
    "$": "$", "US$": "$", "USD$": "$", "USD": "$", "€": "€", "EUR": "€", "£": "£", "GBP": "£",
    "¥": "¥", "JPY": "¥", "₹": "₹", "INR": "₹", "CHF": "chf", "C$": "c$", "CAD": "c$", "A$": "a$", "AUD": "a$",
    "CNY": "cny", "RMB": "cny",
}

# Scale words after a number (spoken or abbreviated): their value.
SCALE_WORDS: dict[str, Decimal] = {
    "thousand": Decimal(10) ** 3,
    "million": Decimal(10) ** 6, "mn": Decimal(10) ** 6, "mln": Decimal(10) ** 6, "mm": Decimal(10) ** 6,
    "billion": Decimal(10) ** 9, "bn": Decimal(10) ** 9,
    "trillion": Decimal(10) ** 12, "tn": Decimal(10) ** 12,
}
# The scale words text2num reads (spelled out), largest last: within one spoken number they must fall.
SPOKEN_SCALES: dict[str, int] = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
# No number reaches a quadrillion: past the largest output scale a value would render as "1000000.001 trillion".
MAX_VALUE = Decimal(10) ** 15
# Suffix letters on written amounts ("$10K", "$4.2B", "$3MM", "3bn"): a single letter only with a currency prefix or
# a decimal point, since "10K" alone is a filing and "3M" a company.
MONEY_SUFFIX_SCALES: dict[str, Decimal] = {
    "k": Decimal(10) ** 3, "m": Decimal(10) ** 6, "mm": Decimal(10) ** 6, "mn": Decimal(10) ** 6,
    "b": Decimal(10) ** 9, "bn": Decimal(10) ** 9, "t": Decimal(10) ** 12, "tn": Decimal(10) ** 12,
}
# Canonical output keeps values >= one million as "<mantissa> <scale word>" (largest scale first).
OUTPUT_SCALES: tuple[tuple[Decimal, str], ...] = (
    (Decimal(10) ** 12, "trillion"),
    (Decimal(10) ** 9, "billion"),
    (Decimal(10) ** 6, "million"),
)

# Unit phrases after a number -> the suffix glued to the canonical number.
UNIT_PHRASES: dict[tuple[str, ...], str] = {
    ("percent",): "%", ("per", "cent"): "%", ("pct",): "%", ("%",): "%",
    ("basis", "points"): "bps", ("basis", "point"): "bps", ("bps",): "bps", ("bp",): "bps",
    ("bips",): "bps", ("bip",): "bps", ("bpts",): "bps",
    ("times",): "x", ("x",): "x",
}
# Written unit suffixes glued to digits ("12.5%", "50bps", "50bp", "2.5x").
UNIT_SUFFIXES: dict[str, str] = {"%": "%", "bps": "bps", "bp": "bps", "bpts": "bps", "x": "x"}
# Percentage points stay words (a change of 2 points is not 2%); abbreviations expand to them.
PP_ABBREVIATIONS = frozenset({"pp", "ppt", "ppts", "pps"})
PP_WORDS = ("percentage", "points")

# Signs spoken before a number.
SIGN_WORDS: dict[str, str] = {"minus": "minus", "negative": "minus", "plus": "plus"}

# Ordinals that name a quarter ("third quarter" = "Q3"); value -> quarter number.
QUARTER_WORDS = frozenset({"quarter"})
# Parts of a year after an ordinal -> the letter written for them and how many a year has: "third quarter" = "Q3"
# = "3Q", "first half" = "H1" = "1H".
PERIOD_PARTS: dict[str, tuple[str, int]] = {"quarter": ("q", 4), "half": ("h", 2)}
# Kinds of year said in full or written as letters: "fiscal year" = "FY", "fiscal 2019" = "FY 2019".
YEAR_KINDS: dict[str, str] = {"fiscal": "fy", "calendar": "cy"}
# Period abbreviations people expand when they speak.
SPOKEN_ABBREVIATIONS: dict[str, tuple[str, ...]] = {"ytd": ("year", "to", "date")}

# Words that join a range of numbers ("3 to 5%"): the unit of the second is shared with the first.
RANGE_WORDS = frozenset({"to", "through", "-", "–"})

# Words spoken between the parts of an alphanumeric code ("COVID dash nineteen").
DASH_WORDS = frozenset({"dash", "hyphen"})

# Contractions -> expansions (ambiguous 's/'d take the commoner reading; applied to both sides alike).
CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "won't": ("will", "not"), "can't": ("can", "not"), "cannot": ("can", "not"), "shan't": ("shall", "not"),
    "ain't": ("is", "not"), "let's": ("let", "us"), "y'all": ("you", "all"),
    "gonna": ("going", "to"), "wanna": ("want", "to"), "gotta": ("got", "to"), "outta": ("out", "of"),
    "kinda": ("kind", "of"), "sorta": ("sort", "of"), "lemme": ("let", "me"), "gimme": ("give", "me"),
    "'cause": ("because",), "'em": ("them",),
}
CONTRACTION_SUFFIXES: dict[str, str] = {"'ll": "will", "'re": "are", "'ve": "have", "'m": "am", "'d": "would"}
# 's expands only after these (after a noun it is a possessive).
S_IS_HOSTS = frozenset({
    "it", "that", "there", "here", "what", "he", "she", "who", "where", "how", "when", "why", "this", "everything",
    "nothing", "something", "everyone", "someone",
})

# Letters that are also words: a run made only of these ("I I think") is a repetition, not a spelling.
LETTER_WORDS = frozenset({"a", "i"})

# Spoken number words that can stand in a digit-by-digit or paired reading ("one forty four", "twenty nineteen").
UNIT_WORDS: dict[str, int] = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9,
}
TEEN_TENS_WORDS: dict[str, int] = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
# Fractions spoken after "<n> and a ..." ("one and a half billion").
AND_A_FRACTIONS: dict[str, str] = {"half": "0.5", "quarter": "0.25"}
# Decades ("the nineties" = "the 90s", "nineteen nineties" = "1990s").
DECADE_WORDS: dict[str, int] = {
    "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
    "eighties": 80, "nineties": 90,
}

# Month names: an ordinal day after one is a plain day number ("June 2nd" = "June 2").
MONTHS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# Ordinal words that name fractions after a count ("two thirds" -> 2/3); "quarter" is left out (a period).
FRACTION_DENOMINATORS = frozenset({
    "third", "thirds", "fourth", "fourths", "fifth", "fifths", "sixth", "sixths", "seventh", "sevenths", "eighth",
    "eighths", "ninth", "ninths", "tenth", "tenths",
})
# Roman numerals read as numbers after these words ("Phase III" = "phase three").
ROMAN_CONTEXT = frozenset({"phase", "class", "tier", "stage", "type", "part", "chapter", "title", "level", "series",
                           "round", "gen", "generation"})
ROMAN_NUMERALS: dict[str, int] = {
    "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
}
