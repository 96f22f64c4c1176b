"""The package's shape: no import cycles (lazy imports inside functions included), and no module
too long to read in one sitting without a reason given in its docstring."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import ROOT

BOOK = ROOT / "book"
LONGEST = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The book modules that `path` imports, anywhere in it."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            if node.module:
                found.add(f"{base}.{node.module}")
            found.update(f"{base}.{node.module + '.' if node.module else ''}{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("book"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("book"))
    return found


def test_no_module_imports_itself_through_others() -> None:
    modules = {_module_name(path): path for path in BOOK.rglob("*.py")}
    graph = {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        for other in sorted(graph[name]):
            if other in trail:
                cycles.append([*trail[trail.index(other) :], other])
            elif other not in done:
                visit(other, [*trail, other])
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    assert not cycles, cycles
    assert "book.pdf.paragraph" in graph["book.pdf.lines"]  # the graph is read: it has edges


def test_no_module_is_too_long_without_a_reason() -> None:
    long = []
    for path in BOOK.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").count("\n")
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > LONGEST and "Longer than" not in docstring:
            long.append((str(path.relative_to(ROOT)), lines))
    assert not long, long


def test_the_readme_is_for_users() -> None:
    """Under 15 kB, with no commit hash, clock time or profile table: those belong in commit
    messages, the changelog and the benchmarks' own files."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 15_000
    assert not re.findall(r"\b[0-9a-f]{7,40}\b", readme)  # a commit hash
    assert not re.findall(r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:UTC|Z)\b", readme)  # a clock time
    assert "## Tests" in readme and "make quick" in readme
