"""General English sentences from Debian text packages (fortunes, WordNet examples), for a general pretraining corpus.

Sources are cleaned to short, plain sentences in written form: attributions, verse and lists, shouting, dialogue and
odd characters are dropped, so every label is something a voice can read and a recogniser can be asked to write.
Everyday English: by default only sentences whose every word is among the 20,000 most frequent English words
(wordfreq's list) are kept, so the corpus is what a general model should know rather than WordNet's rare headwords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import wordfreq

__all__ = ["GeneralConfig", "everyday", "load_general_sentences", "fortune_sentences", "wordnet_sentences", "clean_sentence"]

_FORTUNE_SKIP = {"art", "ascii-art"}  # pictures, not sentences
_OK_CHARS = re.compile(r"^[A-Za-z0-9 ,;:'$%&?!.\-]+$")
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_SHOUT = re.compile(r"\b[A-Z]{2,}")  # acronyms and shouting: espeak-ng spells or mangles them
_ATTRIBUTION = re.compile(r"^\s*--")
_QUOTED = re.compile(r'"([^"]+)"')
_LONE_SYMBOL = re.compile(r"(?<!\d)%|\$(?!\d)")  # "the % key": no number to say it with
_SPEAKER = re.compile(r"^[\w ]{1,20}:")  # "A: ...", "Q: ...": dialogue labels


@dataclass(frozen=True)
class GeneralConfig:
    fortune_dir: str = "/usr/share/games/fortunes"  # Debian packages fortunes, fortunes-min
    wordnet_dir: str = "/usr/share/wordnet"  # Debian package wordnet (data.noun, data.verb, ...)
    sources: tuple[str, ...] = ("fortunes", "wordnet")
    min_words: int = 4
    max_words: int = 20
    vocabulary_size: int = 20000  # keep sentences made only of the N most frequent English words; 0: keep all


def everyday(sentences: Iterable[str], vocabulary_size: int) -> Iterator[str]:
    """The sentences whose every word (wordfreq's English tokens) is among the ``vocabulary_size`` most frequent."""
    common = set(wordfreq.top_n_list("en", vocabulary_size))
    for s in sentences:
        if all(w in common for w in wordfreq.tokenize(s, "en")):
            yield s


def clean_sentence(s: str, min_words: int = 4, max_words: int = 20) -> str | None:
    """``s`` as a clean written sentence (capitalised, end punctuation), or None when it is not usable."""
    s = " ".join(s.replace("`", "'").replace("’", "'").split())
    if not s or not _OK_CHARS.match(s) or "--" in s or ".." in s or "!!" in s or "??" in s or "?!" in s:
        return None
    if _SHOUT.search(s) or not s[0].isalpha() or _SPEAKER.match(s) or _LONE_SYMBOL.search(s):
        return None
    if not min_words <= len(s.split()) <= max_words:
        return None
    if s[-1] not in ".!?":
        s = s.rstrip(",;:-") + "."
    return s[0].upper() + s[1:]


def _fortunes(path: Path) -> Iterator[str]:
    block: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines() + ["%"]:
        if line.strip() != "%":
            block.append(line)
            continue
        lines = []
        for ln in block:
            if _ATTRIBUTION.match(ln):
                break  # the attribution and what follows it
            lines.append(ln)
        block = []
        # Indented lines mark verse, lists, code and dialogue layouts: not plain prose.
        if lines and not any(ln[:1].isspace() for ln in lines if ln.strip()):
            yield " ".join(" ".join(lines).split())


def fortune_sentences(fortune_dir: str | Path, min_words: int = 4, max_words: int = 20) -> Iterator[str]:
    d = Path(fortune_dir)
    for path in sorted(d.iterdir()):
        if path.suffix or path.name in _FORTUNE_SKIP or not path.is_file():
            continue  # .dat indexes, .u8 copies
        for fortune in _fortunes(path):
            for sent in _SENT_SPLIT.split(fortune):
                clean = clean_sentence(sent, min_words, max_words)
                if clean:
                    yield clean


def wordnet_sentences(wordnet_dir: str | Path, min_words: int = 4, max_words: int = 20) -> Iterator[str]:
    """Example sentences of WordNet glosses: the quoted strings after ``|`` in ``data.*``."""
    for pos in ("noun", "verb", "adj", "adv"):
        path = Path(wordnet_dir) / f"data.{pos}"
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(" "):
                    continue  # licence header
                _, _, gloss = line.partition("|")
                for m in _QUOTED.finditer(gloss):
                    clean = clean_sentence(m.group(1), min_words, max_words)
                    if clean:
                        yield clean


def _require(path: str, package: str) -> None:
    if not Path(path).is_dir():
        raise FileNotFoundError(f"{path} not found: install the Debian package(s) {package} "
                                f"(apt-get install {package}) or point the config at the text")


def load_general_sentences(cfg: GeneralConfig = GeneralConfig()) -> tuple[str, ...]:
    """Unique clean sentences from the configured sources, sorted (so a seed alone fixes any sample)."""
    found: Iterable[str] = ()
    out: set[str] = set()
    for source in cfg.sources:
        if source == "fortunes":
            _require(cfg.fortune_dir, "fortunes fortunes-min")
            found = fortune_sentences(cfg.fortune_dir, cfg.min_words, cfg.max_words)
        elif source == "wordnet":
            _require(cfg.wordnet_dir, "wordnet")
            found = wordnet_sentences(cfg.wordnet_dir, cfg.min_words, cfg.max_words)
        else:
            raise ValueError(f"unknown general source {source!r} (fortunes, wordnet)")
        out.update(everyday(found, cfg.vocabulary_size) if cfg.vocabulary_size else found)
    return tuple(sorted(out))
