"""Key-phrase files and per-utterance lists.

A key-phrase file holds one phrase per line (the scorer's bias lists too). Reading skips blank lines and ``#``
comments and accepts Earnings-21's ``bias_lists/*.txt`` as they are (UPPERCASE, ``&``, ``'``, ``-``,
``.``); see ``recase`` for making such lists fit a cased model. Writing produces a file that NeMo's own
``boosting_tree.key_phrases_file`` reads directly: NeMo takes *every* line as a phrase, so no blank line and no comment
is ever written.

A manifest row (or a cut's supervision) may carry its own list in a field, ``key_phrases`` or ``bias_list`` by default:
a list of phrases, or a string naming a phrase file (relative paths resolve against the manifest's folder), else the
string is one phrase.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from finparakeet.biasing.recase import recase_phrases

PER_UTTERANCE_FIELDS: tuple[str, ...] = ("key_phrases", "bias_list")
_WS = re.compile(r"\s+")


class EmptyBiasListError(ValueError):
    """A bias list that should hold phrases holds none (empty file, everything filtered out)."""


def clean_phrases(phrases: Iterable[str]) -> list[str]:
    """Whitespace collapsed, empty entries dropped, exact duplicates dropped (first kept). Case is kept: for a
    cased model "Apple" and "APPLE" are different token sequences."""
    out: dict[str, None] = {}
    for p in phrases:
        if not isinstance(p, str):
            raise TypeError(f"a key phrase must be a string, got {type(p).__name__}: {p!r}")
        p = _WS.sub(" ", p).strip()
        if p:
            out.setdefault(p, None)
    return list(out)


def read_key_phrases(path: str | Path, recase: str = "none", case_index=None, allow_empty: bool = False) -> list[str]:
    """Phrases of a key-phrase file, cleaned (see ``clean_phrases``) and optionally re-cased.

    ``recase``: ``none`` (as written), ``title`` or ``auto`` (see ``finparakeet.biasing.recase``).
    Raises ``FileNotFoundError`` for a missing file and ``EmptyBiasListError`` when no phrase remains.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"key-phrase file {path} does not exist")
    with open(path, encoding="utf-8-sig") as f:  # -sig: a BOM written by an editor is not part of the first phrase
        lines = [line.strip() for line in f]
    phrases = clean_phrases(s for s in lines if s and not s.startswith("#"))
    if recase != "none":
        phrases = clean_phrases(recase_phrases(phrases, recase, case_index))
    if not phrases and not allow_empty:
        raise EmptyBiasListError(f"key-phrase file {path} holds no phrase (one phrase per line; blank lines and "
                                 "'#' comments are skipped)")
    return phrases


def write_key_phrases(phrases: Iterable[str], path: str | Path) -> Path:
    """Write one phrase per line (UTF-8, no blank line, no comment); ``EmptyBiasListError`` if there is none."""
    phrases = clean_phrases(phrases)
    if not phrases:
        raise EmptyBiasListError(f"refusing to write an empty key-phrase file {path}: nothing to boost")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{p}\n" for p in phrases), encoding="utf-8")
    return path


def phrases_from_field(value: Any, base_dir: str | Path | None = None) -> list[str]:
    """A per-utterance list from a manifest field value: a list of phrases, or a phrase file, or one phrase."""
    if value is None:
        return []
    if isinstance(value, str):
        candidate = Path(value)
        if base_dir is not None and not candidate.is_absolute():
            candidate = Path(base_dir) / candidate
        if candidate.suffix == ".txt" and candidate.is_file():
            return read_key_phrases(candidate, allow_empty=True)
        return clean_phrases([value])
    if isinstance(value, Sequence):
        return clean_phrases(value)
    raise TypeError(f"a per-utterance key-phrase field must be a list of phrases or a string, got "
                    f"{type(value).__name__}")


def row_phrases(row: Mapping[str, Any], fields: Sequence[str] = PER_UTTERANCE_FIELDS,
                base_dir: str | Path | None = None) -> list[str] | None:
    """The per-utterance phrases of a NeMo row (or a supervision's ``custom``) from the first of ``fields`` present;
    None when the row has none of them (an empty list means "this row has an explicitly empty list")."""
    for name in fields:
        if name in row and row[name] is not None:
            return phrases_from_field(row[name], base_dir)
    return None
