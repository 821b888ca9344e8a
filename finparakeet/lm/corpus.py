"""Finance text for a token LM, as the model writes it: cased, punctuated, written form, whitespace collapsed.

Every source already holds written-form text (the model's own convention): plain text files (one utterance per
line), manifests (NeMo rows' ``text``, Lhotse cuts' supervision texts; read by the project's one row reader), and
Earnings-21 references (``.nlp`` tokens joined with their punctuation column by the project's reader, then split
into sentences: a call is one line of ~8,000 words, and an LM's ``<s>``/``</s>`` should mark utterance-sized units).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from finparakeet.data.earnings21 import list_calls, load_call
from finparakeet.data.rejects import Reject
from finparakeet.data.rows import read_rows

TEXT, MANIFEST, EARNINGS21 = "text", "manifest", "earnings21"

# A sentence ends at . ? ! followed by space and a capital, digit, currency sign or double quote ("$4.2" and
# "Inc. and" do not end one; "Inc. Earnings" does, a harmless over-split).
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9$€£\"])")


@dataclass
class SourceCount:
    kind: str
    path: str
    lines: int = 0
    skipped: int = 0  # rows without usable text (bad JSON, no text field)
    calls: list[str] | None = None  # Earnings-21: the calls read

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "path": self.path, "lines": self.lines, "skipped": self.skipped}
        if self.calls is not None:
            d["calls"] = self.calls
        return d


@dataclass
class Corpus:
    lines: list[str] = field(default_factory=list)
    sources: list[SourceCount] = field(default_factory=list)


def clean(text: str) -> str:
    """Whitespace collapsed; nothing else changes (case, punctuation and digits are what the model writes)."""
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    return [s for s in (clean(p) for p in _SENTENCE_END.split(text)) if s]


def read_text_file(path: str | Path) -> tuple[list[str], SourceCount]:
    """One utterance per line."""
    lines = [c for c in (clean(x) for x in Path(path).read_text(encoding="utf-8").splitlines()) if c]
    return lines, SourceCount(TEXT, str(path), len(lines))


def read_manifest(path: str | Path, field_name: str = "text") -> tuple[list[str], SourceCount]:
    """NeMo rows' ``text`` or, for Lhotse cuts, each supervision's text."""
    count = SourceCount(MANIFEST, str(path))
    lines: list[str] = []
    for item in read_rows(path):
        if isinstance(item, Reject):
            count.skipped += 1
            continue
        row = item.fields
        texts = ([s.get("text") for s in row["supervisions"] if isinstance(s, dict)]
                 if isinstance(row.get("supervisions"), list) else [row.get(field_name)])
        found = [clean(t) for t in texts if isinstance(t, str) and t.strip()]
        if not found:
            count.skipped += 1
        lines += found
    count.lines = len(lines)
    return lines, count


def read_earnings21(root: str | Path, calls: Sequence[str] | None = None,
                    exclude_calls: Sequence[str] = ()) -> tuple[list[str], SourceCount]:
    """The reference text of ``calls`` (all by default) less ``exclude_calls`` (keep test calls out), in sentences."""
    ids = list(calls) if calls else list_calls(root)
    ids = [c for c in ids if c not in set(exclude_calls)]
    if not ids:
        raise ValueError(f"no Earnings-21 call to read under {root} (calls={calls}, exclude_calls={exclude_calls})")
    lines = [s for c in ids for s in split_sentences(load_call(root, c).text)]
    return lines, SourceCount(EARNINGS21, str(root), len(lines), calls=ids)


def read_corpus(text_files: Iterable[str] = (), manifests: Iterable[str] = (), earnings21_root: str | None = None,
                earnings21_calls: Sequence[str] | None = None, earnings21_exclude: Sequence[str] = (),
                manifest_field: str = "text") -> Corpus:
    """All sources in order; ``ValueError`` when they hold no line at all."""
    corpus = Corpus()
    parts = [read_text_file(p) for p in text_files] + [read_manifest(p, manifest_field) for p in manifests]
    if earnings21_root:
        parts.append(read_earnings21(earnings21_root, earnings21_calls, earnings21_exclude))
    for lines, count in parts:
        corpus.lines += lines
        corpus.sources.append(count)
    if not corpus.lines:
        raise ValueError("no text to build an LM from: give text_files, manifests or earnings21.root "
                         f"(read: {[s.to_dict() for s in corpus.sources]})")
    return corpus
