"""The layering, read from the source with ``ast``: the core imports no adapter, and no
module of the package is part of an import cycle.

Imports under ``if TYPE_CHECKING:`` are left out (they never run). Imports inside a
function count: a lazy import of an adapter from the core is still the core
depending on it, and a lazy cycle is still a cycle a reader has to untangle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "colearner_lsp"
ADAPTERS = ("colearner_lsp.server", "colearner_lsp.bus", "colearner_lsp.cli", "colearner_lsp.views", "colearner_lsp.demo")
NOT_IN_CORE = ("lsprotocol", "pygls", "aiokafka", "confluent_kafka")  # the protocols the adapters speak


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports at run time (absolute names; ``from . import x`` resolved)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                found.add(target)
                # `from . import lifecycle` imports a module, not a name
                found.update(
                    f"{target}.{alias.name}"
                    for alias in child.names
                    if (PACKAGE.parent / f"{target}.{alias.name}".replace(".", "/")).with_suffix(".py").exists()
                )
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {i for i in imports_of(path) if i in modules and i != name} for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def test_the_core_imports_no_adapter_and_no_protocol_library() -> None:
    wrong = {
        name: sorted(i for i in imports if i.startswith(ADAPTERS) or i.split(".")[0] in NOT_IN_CORE)
        for name, imports in ((module_name(p), imports_of(p)) for p in (PACKAGE / "core").rglob("*.py"))
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_no_module_is_part_of_an_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_checks_see_imports_and_cycles() -> None:
    """The reader finds what it must: relative, lazy and TYPE_CHECKING imports, and a cycle."""
    edges = graph()
    assert "colearner_lsp.core.protocol.events" in edges["colearner_lsp.core.model.fold"]  # `from .events import ...`
    assert "colearner_lsp.core.model.lifecycle" in edges["colearner_lsp.core.model.fold"]  # `from . import lifecycle`
    assert "colearner_lsp.bus.kafka_bus" in edges["colearner_lsp.server.server"]  # imported inside a method
    assert "colearner_lsp.core.anchor.anchors" not in edges["colearner_lsp.core.anchor.anchor_match"]  # TYPE_CHECKING only
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


README = PACKAGE.parent / "README.md"


def core_part(module: str) -> str | None:
    """The part of the core a module belongs to: its subpackage, or the module itself at the top."""
    parts = module.split(".")
    return parts[2] if len(parts) >= 3 and parts[:2] == ["colearner_lsp", "core"] else None


def part_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module, imports in graph().items():
        part = core_part(module)
        if part is None:
            continue
        found.setdefault(part, set()).update(p for p in map(core_part, imports) if p is not None and p != part)
    return found


def readme_parts() -> list[tuple[set[str], set[str]]]:
    """The README's table of the core's parts: (the parts a row names, the parts it says they import)."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("<!-- core-parts: begin -->") : text.index("<!-- core-parts: end -->")]
    rows = []
    for line in table.splitlines()[3:]:
        named, _, imports = (cell.strip() for cell in line.strip().strip("|").split("|"))
        rows.append(({n.strip("`/ ") for n in named.split(",")}, {i.split()[0].strip("`") for i in imports.split(",") if i.strip()}))
    return rows


def test_the_readme_lists_every_part_of_the_core_and_what_it_imports() -> None:
    actual = part_imports()
    rows = readme_parts()
    named = [part for parts, _ in rows for part in parts]
    assert sorted(named) == sorted(set(named)), "a part is listed twice"
    assert set(named) == set(actual) - {"__init__"}, "the table and the core's parts differ"
    for parts, listed in rows:
        imported = set().union(*(actual.get(p, set()) for p in parts)) - parts
        assert imported == listed, f"{sorted(parts)} import {sorted(imported)}, the README says {sorted(listed)}"


def test_the_parts_of_the_core_form_no_cycle() -> None:
    assert cycles(part_imports()) == []


def test_the_part_checks_see_a_wrong_table_and_a_cycle() -> None:
    assert cycles({"protocol": {"store"}, "store": {"protocol"}}) == [["protocol", "store"]]
    assert "display" in part_imports()["protocol"]  # from ..display import one_line, in receive
