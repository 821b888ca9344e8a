"""Sentence templates with entity slots, read from ``finparakeet/synth/data/templates.txt``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from finparakeet.entities import FINANCE_CATEGORIES

__all__ = ["Slot", "Template", "load_templates", "parse_template", "TEMPLATES_PATH"]

TEMPLATES_PATH = Path(str(resources.files("finparakeet.synth") / "data" / "templates.txt"))
_SLOT = re.compile(r"\{(?P<cat>[A-Z]+)(?::(?P<kind>[a-z]+))?(?:#(?P<tag>\w+))?\}")


@dataclass(frozen=True)
class Slot:
    category: str
    kind: str = ""
    tag: str = ""  # slots with one tag name one company: its name and its ticker


@dataclass(frozen=True)
class Template:
    id: str  # "<style>:<line>"
    style: str  # "earnings" | "callcentre" | ...
    parts: tuple[str | Slot, ...]

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(p for p in self.parts if isinstance(p, Slot))


def parse_template(text: str, id: str = "", style: str = "") -> Template:
    parts: list[str | Slot] = []
    pos = 0
    for m in _SLOT.finditer(text):
        if m.start() > pos:
            parts.append(text[pos:m.start()])
        if m["cat"] not in FINANCE_CATEGORIES:
            raise ValueError(f"template {id or text!r}: unknown category {m['cat']!r}")
        parts.append(Slot(m["cat"], m["kind"] or "", m["tag"] or ""))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    rest = "".join(p for p in parts if isinstance(p, str))
    if "{" in rest or "}" in rest:
        raise ValueError(f"template {id or text!r}: malformed slot")
    return Template(id, style, tuple(parts))


def load_templates(path: str | Path | None = None) -> tuple[Template, ...]:
    """All templates of the file; ``[style]`` lines start a section, ``#`` lines are comments."""
    path = Path(path) if path else TEMPLATES_PATH
    out: list[Template] = []
    style = "default"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            style = line[1:-1].strip()
            continue
        out.append(parse_template(line, f"{style}:{n}", style))
    return tuple(out)
