"""The experiment's text-only finance LM: the Earnings-21 reference transcripts (real earnings calls) tokenised with
the decoding model's own tokenizer, estimated by KenLM's ``lmplz`` — ``recipes/build_lm.py``'s steps.

Never the synthetic corpus' text: the test sentences are drawn from the generator's templates, so an LM of those
would reward the templates, not finance language (DESIGN.md, "Decisions and their reasons"). When Earnings-21 or
lmplz is missing the LM rows are skipped, saying which and what to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from finparakeet.experiment.decodes import command_line

__all__ = ["LMSettings", "lm_unavailable", "tokenizer_sha", "build_experiment_lm"]


@dataclass(frozen=True)
class LMSettings:
    enabled: bool = True
    earnings21_root: str = "../shared/earnings21"
    earnings21_calls: Sequence[str] | None = None  # None: all 44 calls
    order: int = 5
    prune: tuple[int, ...] = ()
    tune_alpha: tuple[float, ...] = (0.1, 0.3, 0.5)  # ngram_lm_alpha candidates, chosen on the finance dev split


def lm_unavailable(settings: LMSettings) -> str | None:
    """Why the LM rows cannot be made here (None: they can)."""
    from finparakeet.lm.kenlm import LmplzMissingError, find_lmplz

    if not settings.enabled:
        return "lm.enabled=false"
    if not Path(settings.earnings21_root).is_dir():
        return (f"the Earnings-21 reference transcripts are not at lm.earnings21_root={settings.earnings21_root} "
                "(the experiment's LM is built from real earnings-call text only); point lm.earnings21_root at them")
    try:
        find_lmplz()
    except LmplzMissingError as e:
        return str(e)
    return None


def tokenizer_sha(model_path: Path) -> str:
    """The identity of a ``.nemo``'s tokenizer (an LM serves every model that shares it)."""
    from finparakeet.lm.tokens import load_tokenizer

    return load_tokenizer(model_path=model_path)[1].sha256


def build_experiment_lm(model_path: Path, out_dir: Path, settings: LMSettings) -> dict[str, Any]:
    """Build ``out_dir/finance_<tokenizer sha>.arpa`` from Earnings-21 with ``model_path``'s tokenizer (rebuilt on
    every run: its build time is one of issue 14's figures); returns its record with that time and the command."""
    from finparakeet.lm.build import build_lm
    from finparakeet.lm.corpus import read_corpus
    from finparakeet.lm.kenlm import LmplzParams
    from finparakeet.lm.tokens import load_tokenizer

    start = time.perf_counter()
    sp, info = load_tokenizer(model_path=model_path)
    arpa = out_dir / f"finance_{info.sha256[:12]}.arpa"
    calls = list(settings.earnings21_calls) if settings.earnings21_calls else None
    corpus = read_corpus(earnings21_root=settings.earnings21_root, earnings21_calls=calls)
    record = build_lm(corpus, sp, info, arpa, LmplzParams(order=settings.order, prune=tuple(settings.prune)))
    cfg = {"model_path": model_path, "earnings21": {"root": settings.earnings21_root, "calls": calls},
           "output_filename": arpa, "order": settings.order, "prune": list(settings.prune) or None}
    return {"arpa": str(arpa), "sources": record.sources, "lines": record.lines, "tokens": record.tokens,
            "ngram_counts": record.ngram_counts, "order": record.order, "lmplz_seconds": record.lmplz_seconds,
            "build_seconds": round(time.perf_counter() - start, 2), "command": command_line("recipes/build_lm.py", cfg)}
