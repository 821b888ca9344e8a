"""The import graph of ``finparakeet``: no cycle between modules or between subpackages, and the subpackages layered
as written below.

Every module is parsed with ``ast`` (nothing is imported), and every import counts, at module level and inside
functions alike: an import moved into a function to defer NeMo or torch is still an arrow, so it cannot hide a cycle.
``from finparakeet.a import b`` is an arrow to the module ``finparakeet.a.b`` when that is a module, else to the
package ``finparakeet.a`` (its ``__init__``). Importing ``finparakeet.a.b`` runs ``finparakeet/a/__init__.py`` first,
but that implicit arrow is left out: a package's ``__init__`` re-exporting its own modules is not a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "finparakeet"

# Which subpackages (and top-level modules) each may import, lowest first. An arrow not listed here fails the test;
# so does a cycle among the allowed arrows themselves.
LAYERS: dict[str, set[str]] = {
    "entities": set(),  # entity spans and categories: the unit everything agrees on
    "rundir": set(),  # the run-dir contract (artifacts/run.json, model.nemo, adapters.pt)
    "conf": set(),  # the Hydra configs as package data, and their composition
    "lexicon": {"entities"},
    "text": {"entities", "lexicon"},  # the finance normaliser and the entity tagger
    "data": {"entities"},  # manifests, the row reader, rejects, importers, validation
    "biasing": {"entities", "lexicon", "text", "data"},
    "scoring": {"entities", "text", "data", "biasing"},
    "synth": {"entities", "lexicon", "text", "data"},
    "lm": {"data"},  # the text-only n-gram LM: corpus, the model's tokenizer, lmplz, its record
    "models": {"entities", "conf", "pretrained"},
    "pretrained": {"rundir"},  # the shipped models and their manifest
    "lightning": {"entities", "data", "biasing", "scoring"},
    "inference": {"entities", "rundir", "conf", "data", "biasing", "scoring", "models", "pretrained", "lm"},
    "training": {"entities", "rundir", "conf", "data", "biasing", "synth", "models", "lightning", "pretrained",
                 "inference"},  # inference.decoding: the one place decoding is configured (the lm group)
    "experiment": {"entities", "rundir", "conf", "text", "data", "biasing", "scoring", "synth", "models", "lightning",
                   "inference", "training", "lm"},
    # the Whisper anchor needs the optional extra `whisper`: only its recipe imports it, no subpackage may
    "whisper": {"conf", "data", "biasing", "inference"},
}
OPTIONAL = {"whisper"}  # modules of optional extras: imported by no module of the package


def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The ``finparakeet`` modules that ``name`` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names]
        else:
            continue
        for t in targets:
            # ``import finparakeet.a.b.c`` where c is a name: the deepest module on the path
            while t and t not in modules and "." in t:
                t = t.rsplit(".", 1)[0]
            if t in modules and t != name and t != "finparakeet":
                out.add(t)
    return out


def subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path ``[a, b, ..., a]``, or None (depth-first search, iterative)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if state.get(root):
            continue
        path, stack = [root], [iter(sorted(graph.get(root, ())))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


@pytest.fixture(scope="module")
def module_graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {m: imports_of(m, p, set(modules)) for m, p in modules.items()}


def package_graph(module_graph: dict[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for m, targets in module_graph.items():
        src = subpackage(m)
        if src is None:
            continue
        graph.setdefault(src, set()).update(d for t in targets if (d := subpackage(t)) not in (None, src))
    return graph


def test_no_cycle_between_modules(module_graph):
    assert find_cycle(module_graph) is None, " -> ".join(find_cycle(module_graph))


def test_no_cycle_between_subpackages(module_graph):
    graph = package_graph(module_graph)
    cycle = find_cycle(graph)
    where = []
    if cycle:  # name the module-level imports behind each arrow of the cycle
        for a, b in zip(cycle, cycle[1:]):
            where += [f"{m} -> {t}" for m, ts in module_graph.items() if subpackage(m) == a
                      for t in ts if subpackage(t) == b]
    assert cycle is None, " -> ".join(cycle) + "\n" + "\n".join(where)


def test_subpackages_import_only_what_their_layer_allows(module_graph):
    assert find_cycle(LAYERS) is None  # the layering itself points one way
    assert set(package_graph(module_graph)) <= set(LAYERS), "a new subpackage: give it its place in LAYERS"
    bad = sorted(f"{m} -> {t}" for m, ts in module_graph.items() for t in ts
                 if subpackage(m) and subpackage(t) and subpackage(t) != subpackage(m)
                 and subpackage(t) not in LAYERS.get(subpackage(m), set()))
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_no_module_imports_an_optional_extra(module_graph):
    # a core module importing one would make the core fail without the extra, or pull it in unasked
    assert not any(OPTIONAL & deps for deps in LAYERS.values())
    bad = sorted(f"{m} -> {t}" for m, ts in module_graph.items() for t in ts if subpackage(t) in OPTIONAL
                 and subpackage(m) != subpackage(t))
    assert not bad, "modules of the core import an optional extra:\n" + "\n".join(bad)


def test_the_checker_sees_cycles_and_function_level_imports(tmp_path):
    # The checker itself, on a made-up package: a cycle hidden in a function body is found.
    pkg = tmp_path / "finparakeet"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("from finparakeet.a.x import f\n")
    (pkg / "a" / "x.py").write_text("from finparakeet.a import y\n\ndef f():\n    return y\n")
    (pkg / "a" / "y.py").write_text("def g():\n    from finparakeet.a.x import f\n    return f\n")
    names = {module_name(p, pkg): p for p in pkg.rglob("*.py")}
    graph = {m: imports_of(m, p, set(names)) for m, p in names.items()}
    assert graph["finparakeet.a.x"] == {"finparakeet.a.y"} and graph["finparakeet.a.y"] == {"finparakeet.a.x"}
    assert find_cycle(graph) in (["finparakeet.a.x", "finparakeet.a.y", "finparakeet.a.x"],
                                 ["finparakeet.a.y", "finparakeet.a.x", "finparakeet.a.y"])
