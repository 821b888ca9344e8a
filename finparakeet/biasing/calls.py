"""Per-call bias lists from what is known before a call: its metadata, never its transcript.

A call's metadata (``calls.jsonl`` from ``finparakeet.synth`` with ``calls.enabled``, or one's own prep sheets in the
same form) names the company, its ticker, the executives and analysts, and the peers:

    {"id": "...", "company": "Apple", "ticker": "AAPL", "executives": [{"name": "Jane Doe", "role": "..."}],
     "analysts": ["John Roe"], "peers": [{"company": "Microsoft", "ticker": "MSFT"}]}

:func:`call_phrases` turns one into a bias list; :func:`write_call_lists` copies a manifest (or cuts file) with each
utterance's call list in ``bias_list``, the row field NeMo's per-stream biasing reads in ``recipes/transcribe.py``.
A recording of several calls joined (``call_ids``, ``finparakeet.synth.recordings``) gets the union of their lists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from finparakeet.biasing.copying import copy_with_lists
from finparakeet.biasing.phrases import clean_phrases

__all__ = ["CALL_FIELD", "CALLS_FIELD", "read_calls", "call_phrases", "row_call_ids", "write_call_lists"]

CALL_FIELD = "call_id"  # the row (or supervision custom) field naming an utterance's call
CALLS_FIELD = "call_ids"  # a recording of several calls joined: all of them, in order


def read_calls(path: str | Path) -> dict[str, dict[str, Any]]:
    """Call id -> metadata, from a JSON-lines file; ``ValueError`` names the file and line of a bad record."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"calls file {path} does not exist (synthesise with calls.enabled=true, or write one "
                                "call's metadata per line)")
    calls: dict[str, dict[str, Any]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            call = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{n}: not JSON ({e.msg})") from None
        if not isinstance(call, dict) or not isinstance(call.get("id"), str) or not isinstance(call.get("company"), str):
            raise ValueError(f"{path}:{n}: a call needs a string `id` and `company`")
        if call["id"] in calls:
            raise ValueError(f"{path}:{n}: call id {call['id']!r} repeated")
        calls[call["id"]] = call
    return calls


def call_phrases(call: Mapping[str, Any]) -> list[str]:
    """The call's company and ticker, its executives and analysts, its peers and their tickers, in that order."""
    people = [p["name"] if isinstance(p, Mapping) else p for p in (*call.get("executives", ()),
                                                                    *call.get("analysts", ()))]
    peers = [x for p in call.get("peers", ()) for x in (p.get("company"), p.get("ticker"))]
    return clean_phrases(x for x in (call.get("company"), call.get("ticker"), *people, *peers) if x)


def row_call_ids(fields: Mapping[str, Any]) -> list[Any]:
    """The calls a row (or supervision custom) belongs to: ``call_ids``, else ``[call_id]``, else none."""
    ids = fields.get(CALLS_FIELD)
    if ids is None:
        return [] if fields.get(CALL_FIELD) is None else [fields[CALL_FIELD]]
    return list(ids) if isinstance(ids, (list, tuple)) else [ids]


def write_call_lists(transcripts: str | Path, calls: Mapping[str, Mapping[str, Any]], output: str | Path,
                     field_name: str = "bias_list") -> int:
    """Copy ``transcripts`` with each utterance's call list in ``field_name`` (several calls: the union of their lists,
    in order); rows without a call get none, a row naming an unknown call is an error (file, line, id). Returns the
    number of utterances given a list."""
    lists = {cid: call_phrases(c) for cid, c in calls.items()}

    def list_of(fields: Mapping[str, Any], where: str) -> list[str] | None:
        ids = row_call_ids(fields)
        unknown = [i for i in ids if i not in lists]
        if unknown:
            raise ValueError(f"{where}: {CALL_FIELD} {unknown[0]!r} is not in the calls file")
        return clean_phrases(p for i in ids for p in lists[i]) or None

    return copy_with_lists(
        transcripts, output, field_name, lambda row: list_of(row.fields, f"{row.source}:{row.line}"),
        lambda cut, sup: list_of(sup.custom or {}, f"{transcripts}: cut {cut.id}"))
