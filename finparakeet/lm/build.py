"""Corpus + the model's tokenizer + lmplz -> an ARPA file over token ids (offset 100) and its JSON record."""

from __future__ import annotations

from pathlib import Path

import sentencepiece as spm

from finparakeet.lm.corpus import Corpus
from finparakeet.lm.kenlm import LmplzParams, arpa_counts, find_lmplz, run_lmplz
from finparakeet.lm.record import LMRecord, write_record
from finparakeet.lm.tokens import TOKEN_OFFSET, TokenizerInfo, encode_lines


def build_lm(corpus: Corpus, sp: spm.SentencePieceProcessor, info: TokenizerInfo, arpa: str | Path,
             params: LmplzParams = LmplzParams(), lmplz: str | None = None) -> LMRecord:
    """Write ``arpa`` and ``<arpa>.json``; ``LmplzMissingError`` at once when lmplz is not built."""
    exe = find_lmplz(lmplz)  # before tokenising: a missing tool is the first thing to hear about
    encoded = encode_lines(sp, corpus.lines, TOKEN_OFFSET)
    if not encoded.lines:
        raise ValueError(f"none of the {len(corpus.lines)} line(s) can be spelled by the tokenizer ({info.source})")
    arpa = Path(arpa)
    cmd, seconds = run_lmplz(encoded.lines, arpa, params, exe)
    record = LMRecord(arpa=str(arpa), order=params.order, ngram_counts=arpa_counts(arpa), tokenizer=info.to_dict(),
                      sources=[s.to_dict() for s in corpus.sources], lines=len(encoded.lines),
                      tokens=encoded.tokens, unknown_lines=encoded.unknown_lines, prune=list(params.prune),
                      discount_fallback=params.discount_fallback, command=cmd, lmplz_seconds=round(seconds, 3))
    write_record(record)
    return record
