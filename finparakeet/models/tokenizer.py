"""Train a SentencePiece tokenizer laid out the way NeMo's ``tokenizer.dir`` + ``tokenizer.type: bpe`` expects.

Parakeet-TDT-0.6B-v2 writes cased, punctuated text, so the tiny model does too: no lowercasing, and every
character a finance transcript needs (``$ % & . , ?``, digits, currency signs) is forced into the vocabulary
(``required_chars``) even when the training text lacks it, so no written form maps to ``<unk>``.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Iterable, Optional, Sequence, Union

import sentencepiece as spm

__all__ = ["FINANCE_CHARS", "train_tokenizer", "write_nemo_vocab", "is_tokenizer_dir", "encode_check"]

# Characters that must always be representable (letters and digits included so that unseen names/tickers
# fall back to characters, never to <unk>).
FINANCE_CHARS = string.ascii_letters + string.digits + ".,?!'\"-:;%$&/()+@#*=<>€£¥"

NEMO_TOKENIZER_FILES = ("tokenizer.model", "tokenizer.vocab", "vocab.txt")


def is_tokenizer_dir(path: Union[str, Path]) -> bool:
    """True if ``path`` holds the three files NeMo's BPE tokenizer setup reads."""
    return all((Path(path) / name).is_file() for name in NEMO_TOKENIZER_FILES)


def write_nemo_vocab(model_path: Union[str, Path], out_path: Union[str, Path]) -> list[str]:
    """Write NeMo's ``vocab.txt``: one line per non-special piece, word-initial ``▁`` stripped,
    word-internal pieces prefixed with ``##`` (the WordPiece-style listing NeMo keeps next to the model)."""
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    tokens = []
    for i in range(sp.get_piece_size()):
        if sp.is_unknown(i) or sp.is_control(i):
            continue
        piece = sp.id_to_piece(i)
        if piece.startswith("▁"):
            tokens.append(piece[1:] or piece)  # a bare "▁" stays itself
        else:
            tokens.append(f"##{piece}")
    Path(out_path).write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
    return tokens


def train_tokenizer(
    texts: Iterable[str],
    out_dir: Union[str, Path],
    vocab_size: int = 128,
    model_type: str = "unigram",
    character_coverage: float = 1.0,
    required_chars: str = FINANCE_CHARS,
    user_defined_symbols: Sequence[str] = (),
    byte_fallback: bool = False,
    split_digits: bool = True,
    max_sentence_length: int = 8192,
    seed_sentencepiece_size: int = 100_000,
    num_threads: int = 1,
    overwrite: bool = False,
) -> Path:
    """Train on written-form ``texts`` and write ``tokenizer.model``, ``tokenizer.vocab``, ``vocab.txt``.

    Args:
        texts: training sentences, written form (cased, punctuated, digits) — exactly what the model must output.
        out_dir: becomes the model config's ``tokenizer.dir``.
        vocab_size: upper bound; SentencePiece may return fewer pieces on a small corpus (soft limit), the
            model takes its size from the tokenizer.
        model_type: ``unigram`` or ``bpe`` (both load through NeMo's ``tokenizer.type: bpe``).
        required_chars: characters kept as pieces even if absent from ``texts``.
        user_defined_symbols: strings always split off as their own piece (e.g. ``["$", "%"]``).
        byte_fallback: map unknown characters to byte pieces (adds 256 pieces: only for large vocabularies).
        split_digits: one piece per digit, so unseen amounts are spelled from digits.
        overwrite: retrain even if ``out_dir`` already holds a tokenizer.

    Returns:
        ``out_dir`` as a Path.
    """
    if model_type not in ("unigram", "bpe"):
        raise ValueError(f"model_type must be 'unigram' or 'bpe', got {model_type!r}")
    out = Path(out_dir)
    if is_tokenizer_dir(out) and not overwrite:
        return out
    out.mkdir(parents=True, exist_ok=True)
    sentences = [t.strip() for t in texts if t and t.strip()]
    if not sentences:
        raise ValueError("no training text given")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_prefix=str(out / "tokenizer"),
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=character_coverage,
        required_chars="".join(sorted(set(required_chars) - set(string.whitespace))),
        user_defined_symbols=list(user_defined_symbols),
        byte_fallback=byte_fallback,
        split_digits=split_digits,
        # NeMo's ASR tokenizers use no BOS/EOS/PAD; <unk> is id 0.
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        normalization_rule_name="nmt_nfkc",  # NFKC only: keeps case (nmt_nfkc_cf would lowercase)
        hard_vocab_limit=False,
        max_sentence_length=max_sentence_length,
        seed_sentencepiece_size=seed_sentencepiece_size,
        num_threads=num_threads,
        minloglevel=2,
    )
    write_nemo_vocab(out / "tokenizer.model", out / "vocab.txt")
    return out


def encode_check(tokenizer_dir: Union[str, Path], text: str) -> Optional[str]:
    """Return a message if ``text`` does not survive encode/decode with this tokenizer, else None."""
    sp = spm.SentencePieceProcessor(model_file=str(Path(tokenizer_dir) / "tokenizer.model"))
    ids = sp.encode(text)
    if sp.unk_id() in ids:
        missing = sorted({c for c in text if not c.isspace() and sp.unk_id() in sp.encode(c)})
        return f"characters not in the vocabulary: {missing}"
    if sp.decode(ids) != " ".join(text.split()):
        return f"round trip changed the text: {sp.decode(ids)!r}"
    return None
