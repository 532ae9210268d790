"""The package's structure, as docs/architecture.md draws it: attnprof's parts (a top-level
module, or a subpackage taken whole) import each other without a circle, every import
counted (at the top of a file or inside a function), and the leaves import no other part
that sits above them. A new import that closes a circle fails here, naming it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1] / "attnprof"


def _part(module: str) -> str | None:
    """``attnprof.report.view`` -> ``report``; ``attnprof.runner`` -> ``runner``."""
    parts = module.split(".")
    if parts[0] != "attnprof" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def graph() -> dict[str, set[str]]:
    """Each part -> the other parts it imports."""
    edges: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        me = _part(module)
        if me is None or me in ("__init__", "__main__"):
            continue
        targets = {_part(m) for m in _imports(path, module)} - {None, me}
        edges.setdefault(me, set()).update(
            t for t in targets if (ROOT / t).is_dir() or (ROOT / f"{t}.py").exists())
    return edges


def _circle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_parts_import_each_other_without_a_circle():
    edges = graph()
    assert {"runner", "request", "report", "results", "cli", "counters"} <= set(edges)
    circle = _circle(edges)
    assert circle is None, " -> ".join(circle)


def test_the_circle_finder_finds_one():
    """The check above can fail: a circle made by hand is found and named."""
    assert _circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _circle({"a": {"b"}, "b": {"c"}}) is None


def test_the_leaves_stay_leaves():
    """What docs/architecture.md puts at the bottom imports nothing above it: the records,
    statistics and option values never reach for the pipeline, the report or the CLI."""
    edges = graph()
    upper = {"cli", "library", "report", "suite", "network", "sweep", "runner", "building",
             "arguments", "request"}
    for leaf in ("results", "stats", "values", "spec", "errors", "units", "profile_options"):
        assert not edges.get(leaf, set()) & upper, (leaf, edges.get(leaf, set()) & upper)
