"""Copy a NeMo manifest or a Lhotse cuts file with a phrase list added to each utterance (one field)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

from finparakeet.data.rejects import Reject
from finparakeet.data.rows import Row, detect_format, read_rows

__all__ = ["copy_with_lists"]


def copy_with_lists(transcripts: str | Path, output: str | Path, field_name: str,
                    of_row: Callable[[Row], Optional[list[str]]],
                    of_supervision: Callable[[Any, Any], Optional[list[str]]]) -> int:
    """Write ``output``: ``transcripts`` with ``field_name`` set where ``of_row(row)`` (a manifest) or
    ``of_supervision(cut, sup)`` (a cuts file) gives a non-empty list; unreadable manifest lines are not copied.
    Returns the number of utterances given a list."""
    transcripts, output = Path(transcripts), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    if detect_format(transcripts, default="nemo") == "nemo":
        with open(output, "w", encoding="utf-8") as out:
            for item in read_rows(transcripts):
                if isinstance(item, Reject):
                    continue  # not a row: not copied
                row = item.fields
                phrases = of_row(item)
                if phrases:
                    row, n = {**row, field_name: phrases}, n + 1
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return n
    from lhotse.utils import fastcopy  # Lhotse only for a cuts file

    from finparakeet.data.manifests import load_cuts, save_cuts

    def with_lists(cuts):
        nonlocal n
        for cut in cuts:
            sups = []
            for sup in cut.supervisions:
                phrases = of_supervision(cut, sup)
                if phrases:
                    n += 1
                    sup = fastcopy(sup, custom={**(sup.custom or {}), field_name: phrases})
                sups.append(sup)
            yield fastcopy(cut, supervisions=sups)

    save_cuts(with_lists(load_cuts(transcripts, lazy=True)), output)
    return n
