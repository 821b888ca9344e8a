"""The model's own tokenizer for the LM, and lines written the way NeMo's token-level LMs are built.

NeMo (``scripts/asr_language_modeling/ngram_lm/train_kenlm.py``, ``kenlm_utils.tokenize_str``) writes each token id
plus ``DEFAULT_TOKEN_OFFSET`` (100) as one Unicode character, tokens separated by spaces, so KenLM (which knows only
words) counts tokens; NGPU-LM reads an ARPA file back with ``ord(symbol) - 100``. The offset keeps ids clear of ASCII
control characters and of the space that separates them. Parakeet's tokenizers are SentencePiece (``type: bpe``):
NeMo's ``text_to_ids`` is SentencePiece's ``encode``, so the processor read here gives the model's ids exactly.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import sentencepiece as spm
import yaml

TOKEN_OFFSET = 100  # NeMo's DEFAULT_TOKEN_OFFSET (nemo/collections/asr/parts/submodules/ngram_lm/constants.py)
TOKENIZER_MODEL = "tokenizer.model"  # in a tokenizer dir (finparakeet.models.tokenizer's layout, NeMo's tokenizer.dir)


@dataclass(frozen=True)
class TokenizerInfo:
    """What an LM and a model must agree on: the number of token ids and the pieces behind them."""

    vocab_size: int
    sha256: str  # of the pieces in id order, one per line
    source: str = ""

    def to_dict(self) -> dict:
        return {"vocab_size": self.vocab_size, "sha256": self.sha256, "source": self.source}


def tokenizer_info(sp: spm.SentencePieceProcessor, source: str = "") -> TokenizerInfo:
    pieces = "\n".join(sp.id_to_piece(i) for i in range(sp.get_piece_size()))
    return TokenizerInfo(sp.get_piece_size(), hashlib.sha256(pieces.encode("utf-8")).hexdigest(), source)


def model_tokenizer_info(model) -> TokenizerInfo | None:
    """The tokenizer identity of a loaded NeMo model (its SentencePiece processor); None when it has none."""
    sp = getattr(getattr(model, "tokenizer", None), "tokenizer", None)
    return tokenizer_info(sp, "model") if isinstance(sp, spm.SentencePieceProcessor) else None


def _from_nemo(path: Path) -> bytes:
    """``tokenizer.model`` out of a ``.nemo`` (a tar: ``model_config.yaml`` names it ``nemo:<file>``), no NeMo."""
    with tarfile.open(path) as tar:
        members = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        if "model_config.yaml" not in members:
            raise ValueError(f"{path} is not a .nemo file (no model_config.yaml inside)")
        cfg = yaml.safe_load(tar.extractfile(members["model_config.yaml"]).read()) or {}
        tok = cfg.get("tokenizer") or {}
        name = str(tok.get("model_path") or "").removeprefix("nemo:")
        if not name or Path(name).name not in members:
            raise ValueError(f"{path}: the model has no SentencePiece tokenizer inside (tokenizer: {tok}); give "
                             "tokenizer_dir= instead")
        return tar.extractfile(members[Path(name).name]).read()


def load_tokenizer(model_path: str | Path | None = None,
                   tokenizer_dir: str | Path | None = None) -> tuple[spm.SentencePieceProcessor, TokenizerInfo]:
    """The SentencePiece processor of a ``.nemo`` (``model_path``) or a tokenizer dir, exactly one of them."""
    if bool(model_path) == bool(tokenizer_dir):
        raise ValueError("give exactly one of model_path=<model.nemo> or tokenizer_dir=<dir with tokenizer.model>")
    if model_path:
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(f"model_path={model_path} does not exist")
        sp = spm.SentencePieceProcessor(model_proto=_from_nemo(path))
        return sp, tokenizer_info(sp, str(path))
    path = Path(tokenizer_dir) / TOKENIZER_MODEL
    if not path.is_file():
        raise FileNotFoundError(f"tokenizer_dir={tokenizer_dir} has no {TOKENIZER_MODEL}")
    sp = spm.SentencePieceProcessor(model_file=str(path))
    return sp, tokenizer_info(sp, str(tokenizer_dir))


@dataclass
class Encoded:
    lines: list[str]  # token characters separated by spaces: lmplz's input
    tokens: int = 0
    unknown_lines: int = 0  # dropped: the tokenizer could not spell them (an <unk> would teach the LM <unk>)


def encode_lines(sp: spm.SentencePieceProcessor, texts: Iterable[str], offset: int = TOKEN_OFFSET) -> Encoded:
    unk = sp.unk_id()
    out = Encoded([])
    for text in texts:
        ids = sp.encode(text)
        if not ids:
            continue
        if unk >= 0 and unk in ids:
            out.unknown_lines += 1
            continue
        out.lines.append(" ".join(chr(i + offset) for i in ids))
        out.tokens += len(ids)
    return out


def ids_of_symbols(symbols: str, offset: int = TOKEN_OFFSET) -> list[int]:
    """Token ids of an ARPA line's space-separated symbols (``<s>``, ``</s>``, ``<unk>`` left out)."""
    return [ord(s) - offset for s in symbols.split(" ") if len(s) == 1]


def read_arpa_unigram_ids(path: str | Path, offset: int = TOKEN_OFFSET) -> list[int]:
    """The token ids of an ARPA file's unigrams."""
    ids, inside = [], False
    with io.open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("\\"):
                if inside:
                    break
                inside = line == "\\1-grams:"
                continue
            if inside and line:
                ids += ids_of_symbols(line.split("\t")[1], offset)
    return ids
