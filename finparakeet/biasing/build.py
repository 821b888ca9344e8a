"""Build a bias list from the finance lexicon, existing phrase files and the entities of transcripts.

Sources, any combination:

- the lexicon: written forms (optionally aliases) of the selected ``kinds`` (ticker, company, index, etf, fund, term,
  person) and/or ``categories`` (TICKER, ORG, TERM, PERSON) — the forms Parakeet writes ("S&P 500", "EBITDA");
- phrase files (``lists``), e.g. Earnings-21's ``oracle_list.txt``, re-cased by ``recase``;
- transcripts (NeMo manifests or Lhotse cuts): each utterance's entity spans as written in its text (the manifest's
  ``entities``, or the finance tagger's when a row has none), of the selected ``entity_categories``, plus any
  per-utterance list a row carries (``key_phrases`` / ``bias_list``);
- calls' metadata (``calls``: ``calls.jsonl`` files, see ``finparakeet.biasing.calls``): each call's company, ticker,
  people and peers.

Every candidate phrase is counted in the transcripts (entity spans and per-utterance lists, exact text). Phrases found
only in transcripts need ``min_count``; lexicon and file phrases are kept regardless unless
``require_in_transcripts``. The list is ranked by count (then first seen) and cut to ``max_size``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from finparakeet.biasing.phrases import (PER_UTTERANCE_FIELDS, EmptyBiasListError, clean_phrases, read_key_phrases,
                                         row_phrases, write_key_phrases)
from finparakeet.biasing.calls import call_phrases, read_calls
from finparakeet.biasing.copying import copy_with_lists
from finparakeet.biasing.recase import CaseIndex, warn_word_tickers
from finparakeet.data.rejects import InvalidCut, Reject
from finparakeet.data.rows import detect_format, read_rows, row_entities, string_field
from finparakeet.entities import EntitySpan, parse_entities
from finparakeet.lexicon import load_lexicon
from finparakeet.text.tagger import FinanceTagger

logger = logging.getLogger(__name__)

LEXICON = "lexicon"
TRANSCRIPTS = "transcripts"
FILES = "lists"
CALLS = "calls"


@dataclass(frozen=True)
class BiasListConfig:
    lexicon: bool = True
    kinds: Sequence[str] | None = None  # lexicon kinds; None: all
    categories: Sequence[str] | None = None  # lexicon categories (TICKER, ORG, TERM, PERSON); None: all
    aliases: bool = False  # also the aliases ("Apple Inc.", "Standard & Poor's 500")
    lists: Sequence[str] = ()  # phrase files to merge
    recase: str = "auto"  # for the phrase files: none | title | auto (see finparakeet.biasing.recase)
    transcripts: Sequence[str] = ()  # NeMo manifests or Lhotse cuts files
    calls: Sequence[str] = ()  # calls.jsonl files: every call's metadata phrases
    entity_categories: Sequence[str] | None = ("TICKER", "ORG", "TERM", "PERSON")  # None: every category
    tag_missing: bool = True  # tag texts that come without entities with the finance tagger
    per_utterance_fields: Sequence[str] = PER_UTTERANCE_FIELDS
    min_count: int = 1  # for phrases found only in transcripts
    require_in_transcripts: bool = False  # keep lexicon/file phrases only if counted >= min_count
    max_size: int | None = None
    min_chars: int = 2  # single characters ("A", "&") would boost everywhere


@dataclass
class BiasList:
    phrases: list[str]
    counts: dict[str, int]  # occurrences in the transcripts
    sources: dict[str, list[str]]  # phrase -> where it came from (lexicon, lists, transcripts)
    rejects: list[Reject] = field(default_factory=list)  # transcript rows that could not be read

    def summary(self, top: int = 10) -> dict[str, Any]:
        by_source = Counter(s for p in self.phrases for s in self.sources.get(p, ()))
        ranked = sorted(self.phrases, key=lambda p: -self.counts.get(p, 0))[:top]
        return {"num_phrases": len(self.phrases), "by_source": dict(by_source),
                "top": [{"phrase": p, "count": self.counts.get(p, 0)} for p in ranked],
                "rejected_rows": len(self.rejects)}


@dataclass(frozen=True)
class TranscriptItem:
    id: str
    text: str
    entities: list[EntitySpan] | None  # None: the input has none
    fields: dict[str, Any] = field(default_factory=dict)  # per-utterance list fields as found
    base_dir: str | None = None


def iter_transcripts(path: str | Path, fields: Sequence[str] = PER_UTTERANCE_FIELDS
                     ) -> Iterator[TranscriptItem | Reject]:
    """Texts of a NeMo manifest or a Lhotse cuts file with their entities and per-utterance list fields, in order;
    a line that is no row, or a row without a string ``text``, comes as its ``Reject``. Only text is read (no
    audio). Entities that do not fit their text are ignored with a warning (the text still counts, tagged): a bias
    list is a summary, one bad row should not stop it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"transcripts file {path} does not exist")
    base = str(path.parent)
    if detect_format(path, default="nemo") == "nemo":
        for row in read_rows(path):
            if isinstance(row, Reject):
                yield row
                continue
            try:
                text = string_field(row.fields, "text")
            except InvalidCut as e:
                yield row.reject(e, row.fields.get("cut_id"))
                continue
            try:
                ents = row_entities(row.fields) if row.fields.get("entities") is not None else None
            except InvalidCut as e:
                logger.warning("%s:%d: entities ignored (%s)", path, row.line, e.reason)
                ents = None
            yield TranscriptItem(str(row.fields.get("cut_id") or row.line), text, ents,
                                 {k: row.fields[k] for k in fields if k in row.fields}, base)
        return
    from finparakeet.data.manifests import load_cuts  # Lhotse (~1 s to import) only for a cuts file

    for cut in load_cuts(path, lazy=True):
        for sup in cut.supervisions:
            custom = sup.custom or {}
            if not isinstance(sup.text, str):
                continue
            try:
                ents = parse_entities(custom["entities"]) if custom.get("entities") is not None else None
            except ValueError as e:
                logger.warning("%s: cut %s: entities ignored (%s)", path, cut.id, e)
                ents = None
            yield TranscriptItem(cut.id, sup.text, ents, {k: custom[k] for k in fields if k in custom}, base)


def lexicon_phrases(lexicon=None, kinds: Sequence[str] | None = None, categories: Sequence[str] | None = None,
                    aliases: bool = False) -> list[str]:
    """Written forms (and aliases) of the lexicon entries of ``kinds`` and ``categories`` (None: all)."""
    lex = lexicon if lexicon is not None else load_lexicon()
    known_kinds = {e.kind for e in lex.entries}
    known_cats = {e.category for e in lex.entries}
    for name, given, known in (("kinds", kinds, known_kinds), ("categories", categories, known_cats)):
        bad = sorted(set(given or ()) - known)
        if bad:
            raise ValueError(f"unknown lexicon {name} {bad}; known: {sorted(known)}")
    entries = [e for e in lex.entries if (kinds is None or e.kind in kinds)
               and (categories is None or e.category in categories)]
    return clean_phrases(w for e in entries for w in ((e.written, *e.aliases) if aliases else (e.written,)))


class _Tagger:
    """The finance tagger, built on first use (it compiles the whole lexicon)."""

    def __init__(self) -> None:
        self._tagger = None

    def __call__(self, text: str) -> list[EntitySpan]:
        if self._tagger is None:
            self._tagger = FinanceTagger()
        return self._tagger.tag(text)


def item_phrases(item: TranscriptItem, categories: Sequence[str] | None, tag_missing: bool,
                 fields: Sequence[str], tagger: _Tagger | None = None) -> list[str]:
    """An utterance's phrases: its entity surfaces of ``categories`` and its per-utterance list, in text order."""
    ents = item.entities
    if ents is None and tag_missing:
        ents = (tagger or _Tagger())(item.text)
    out = [e.text for e in ents or () if categories is None or e.category in categories]
    out += row_phrases(item.fields, fields, item.base_dir) or []
    return out


def count_transcript_phrases(paths: Iterable[str | Path], cfg: BiasListConfig = BiasListConfig()
                             ) -> tuple[Counter[str], list[Reject]]:
    """How often each phrase occurs as an entity (or in a per-utterance list) of the transcripts, and the rows
    that could not be read."""
    counts: Counter[str] = Counter()
    rejects: list[Reject] = []
    tagger = _Tagger()
    cats = list(cfg.entity_categories) if cfg.entity_categories is not None else None
    for path in paths:
        for item in iter_transcripts(path, cfg.per_utterance_fields):
            if isinstance(item, Reject):
                logger.warning("%s:%s: skipped (%s)", item.source, item.line, item.reason)
                rejects.append(item)
                continue
            found = item_phrases(item, cats, cfg.tag_missing, cfg.per_utterance_fields, tagger)
            counts.update(p for p in (" ".join(x.split()) for x in found) if p)  # repeats count: no dedupe
    return counts, rejects


def build_bias_list(cfg: BiasListConfig = BiasListConfig(), lexicon=None) -> BiasList:
    """The bias list of ``cfg`` (see the module docstring); ``EmptyBiasListError`` when nothing qualifies."""
    if cfg.min_count < 1:
        raise ValueError(f"min_count must be >= 1, got {cfg.min_count}")
    if cfg.max_size is not None and cfg.max_size < 1:
        raise ValueError(f"max_size must be >= 1 (or null), got {cfg.max_size}")
    sources: dict[str, list[str]] = {}

    def add(phrases: Iterable[str], source: str) -> None:
        for p in clean_phrases(phrases):
            tags = sources.setdefault(p, [])
            if source not in tags:
                tags.append(source)

    if cfg.lexicon:
        add(lexicon_phrases(lexicon, cfg.kinds, cfg.categories, cfg.aliases), LEXICON)
    if cfg.lists:
        index = CaseIndex.from_lexicon(lexicon) if cfg.recase == "auto" else None
        for path in cfg.lists:
            add(read_key_phrases(path, recase=cfg.recase, case_index=index), FILES)
    for path in cfg.calls:
        add((p for call in read_calls(path).values() for p in call_phrases(call)), CALLS)
    counts, rejects = count_transcript_phrases(cfg.transcripts, cfg) if cfg.transcripts else (Counter(), [])
    add(counts, TRANSCRIPTS)

    def keep(p: str) -> bool:
        if sum(c.isalnum() for c in p) < cfg.min_chars:
            return False
        if sources[p] == [TRANSCRIPTS] or (cfg.require_in_transcripts and cfg.transcripts):
            return counts[p] >= cfg.min_count
        return True

    order = {p: i for i, p in enumerate(sources)}
    phrases = sorted((p for p in sources if keep(p)), key=lambda p: (-counts[p], order[p]))
    if cfg.max_size is not None:
        phrases = phrases[: cfg.max_size]
    if not phrases:
        what = [s for s, on in ((LEXICON, cfg.lexicon), (FILES, bool(cfg.lists)), (CALLS, bool(cfg.calls)),
                                (TRANSCRIPTS, bool(cfg.transcripts))) if on]
        raise EmptyBiasListError(
            f"the bias list is empty (sources: {what or 'none'}; min_count={cfg.min_count}, "
            f"require_in_transcripts={cfg.require_in_transcripts}): enable the lexicon, give lists=[...] or "
            "transcripts with entities, or lower min_count")
    warn_word_tickers(phrases)
    return BiasList(phrases, {p: counts[p] for p in phrases}, {p: sources[p] for p in phrases}, rejects)


def write_per_utterance_lists(transcripts: str | Path, output: str | Path, cfg: BiasListConfig = BiasListConfig(),
                              field_name: str = "key_phrases", restrict_to: Iterable[str] | None = None) -> int:
    """Copy a NeMo manifest (or cuts file) with each utterance's own list in ``field_name``: its entity phrases
    (``cfg.entity_categories``) and any list it already carries, optionally only those in ``restrict_to``.
    Rows with no phrase get no field. Returns the number of utterances given a list."""
    allowed = set(restrict_to) if restrict_to is not None else None
    cats = list(cfg.entity_categories) if cfg.entity_categories is not None else None
    tagger = _Tagger()
    transcripts = Path(transcripts)

    def phrases_of(item: TranscriptItem) -> list[str]:
        got = clean_phrases(item_phrases(item, cats, cfg.tag_missing, cfg.per_utterance_fields, tagger))
        return [p for p in got if allowed is None or p in allowed]

    items = (x for x in iter_transcripts(transcripts, cfg.per_utterance_fields) if not isinstance(x, Reject)) \
        if detect_format(transcripts, default="nemo") == "nemo" else iter(())

    def of_row(row) -> list[str] | None:  # iter_transcripts yields one item per row with a text, in order
        return phrases_of(next(items)) if isinstance(row.fields.get("text"), str) else None

    def of_supervision(cut, sup) -> list[str] | None:
        if not isinstance(sup.text, str):
            return None
        custom = sup.custom or {}
        return phrases_of(TranscriptItem(cut.id, sup.text, parse_entities(custom.get("entities"))
                                         if custom.get("entities") is not None else None,
                                         {k: custom[k] for k in cfg.per_utterance_fields if k in custom},
                                         str(transcripts.parent)))

    return copy_with_lists(transcripts, output, field_name, of_row, of_supervision)


def write_bias_list(bias: BiasList, path: str | Path) -> Path:
    """The phrases, one per line (see ``write_key_phrases``: an empty list is refused)."""
    return write_key_phrases(bias.phrases, path)
