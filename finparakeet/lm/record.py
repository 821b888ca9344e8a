"""The JSON record written beside an ARPA file (``<name>.arpa.json``), and the tokenizer check decoding makes.

An LM over token ids is only meaningful with the tokenizer that made them: another tokenizer's id 7 is another
piece. NGPU-LM would load a foreign LM silently (or fail an assertion on an id past the vocabulary), so decoding
compares the model's tokenizer with the record first.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from finparakeet.lm.tokens import TOKEN_OFFSET, TokenizerInfo, read_arpa_unigram_ids


class TokenizerMismatchError(ValueError):
    """The model's tokenizer is not the one the LM was built with."""


@dataclass
class LMRecord:
    arpa: str
    order: int
    ngram_counts: dict[int, int]
    tokenizer: dict[str, Any]  # TokenizerInfo.to_dict()
    token_offset: int = TOKEN_OFFSET
    sources: list[dict[str, Any]] = field(default_factory=list)
    lines: int = 0
    tokens: int = 0
    unknown_lines: int = 0
    prune: list[int] = field(default_factory=list)
    discount_fallback: bool = True
    command: list[str] = field(default_factory=list)
    lmplz_seconds: float = 0.0


def record_path(arpa: str | Path) -> Path:
    arpa = Path(arpa)
    return arpa.with_name(arpa.name + ".json")


def write_record(record: LMRecord) -> Path:
    path = record_path(record.arpa)
    path.write_text(json.dumps(asdict(record), indent=1) + "\n", encoding="utf-8")
    return path


def read_record(arpa: str | Path) -> LMRecord | None:
    path = record_path(arpa)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    data["ngram_counts"] = {int(k): v for k, v in data.get("ngram_counts", {}).items()}
    return LMRecord(**data)


def check_tokenizer(arpa: str | Path, model: TokenizerInfo | None, vocab_size: int) -> None:
    """``TokenizerMismatchError`` unless the LM at ``arpa`` was built with the model's tokenizer.

    With a record: its tokenizer's size and hash must be the model's. Without one (an ARPA made elsewhere): every
    unigram must be a token id of the model's vocabulary (``vocab_size``: the model's blank id), the most that can be
    checked. ``model``: the model's ``TokenizerInfo`` (None when it is not SentencePiece: the size alone is compared).
    """
    record = read_record(arpa)
    if record is not None:
        lm = record.tokenizer
        if lm.get("vocab_size") != vocab_size or (model is not None and lm.get("sha256") != model.sha256):
            raise TokenizerMismatchError(
                f"the LM {arpa} was built with another tokenizer ({lm.get('source')}: {lm.get('vocab_size')} tokens, "
                f"sha256 {str(lm.get('sha256'))[:12]}) than the model's ({vocab_size} tokens"
                f"{', sha256 ' + model.sha256[:12] if model else ''}): rebuild it with recipes/build_lm.py "
                "model_path=<this model's .nemo>")
        return
    ids = read_arpa_unigram_ids(arpa)
    bad = sorted({i for i in ids if not 0 <= i < vocab_size})
    if bad:
        raise TokenizerMismatchError(
            f"the LM {arpa} has no record ({record_path(arpa).name}) and holds token ids outside the model's "
            f"{vocab_size}-token vocabulary (e.g. {bad[:5]}, with NeMo's offset {TOKEN_OFFSET}): it was not built "
            "with this model's tokenizer; rebuild it with recipes/build_lm.py model_path=<this model's .nemo>")
