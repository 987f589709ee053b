"""Who may import whom (docs/architecture.md), checked on the source of every module.

The files are parsed, not imported: every `import` and `from ... import` of a project module
counts, at module level, inside functions and under `if TYPE_CHECKING` alike. A name taken
from a package counts as its submodule when there is one (`from routing import emergency`),
else as the package's `__init__`. A module's implicit import of its own parent package is not
an arrow (it would put every module in a cycle with its package's `__init__`).

Three rules: no import cycle between any two modules; the arrows between packages, and
between the parts of `hotline/`, follow the tables below; the development tools
(`hotline/devtools`, `hotline/bench`) are never loaded by the product.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: package -> the other packages of the project it may import. Domain packages never import
#: the application; `ivr` defines its ports (router, classifier, speech listener) and
#: `hotline` implements them, so it imports neither `routing` nor `asr`.
PACKAGES: Mapping[str, frozenset[str]] = {
    "telephony": frozenset(),
    "routing": frozenset(),
    "recordings": frozenset(),
    "ivr": frozenset(),
    "asr": frozenset({"telephony"}),
    "hotline": frozenset({"telephony", "asr", "routing", "recordings", "ivr"}),
}

DEV_TOOLS = ("devtools", "bench")
#: any folder of `hotline/` not named in HOTLINE_PARTS or DEV_TOOLS: calls, ivr, roster, ...
FEATURE = "<feature>"
#: part of `hotline/` (a folder, or `service.py`, `cli.py`) -> the other parts it may import.
#: A feature may use the `calls` feature (the call log the others build on) and the features
#: FEATURE_USES names for it, nothing else. A lazy import in a command module (`hotline/cli.py`,
#: `hotline/<part>/cli.py`) is free: `hotline serve` builds the service.
HOTLINE_PARTS: Mapping[str, frozenset[str]] = {
    "core": frozenset(),
    "web": frozenset({"core"}),
    FEATURE: frozenset({"core", "web", "calls"}),
    "migrations": frozenset({"core", FEATURE}),
    "service": frozenset({"core", "web", FEATURE}),
    "cli": frozenset({"core", "web", "service", FEATURE}),
}
#: feature -> the other features it builds on, besides `calls` (arrows point down: a feature
#: named on the right never imports the one on the left; the cycle test checks it)
FEATURE_USES: Mapping[str, frozenset[str]] = {
    # an order answered from the knowledge base records the entry it used
    "orders": frozenset({"kb"}),
    # reports count work orders per shift of the roster
    "reports": frozenset({"orders", "roster"}),
    # operators' corrections on work orders become the classifier's training rows
    "classify": frozenset({"orders"}),
    # a satisfaction callback closes or reopens its work order; calls keep to the calendar;
    # the survey's prompts are made and played like the menus' (uploads replace them)
    "outbound": frozenset({"orders", "roster", "ivr"}),
}
#: the development tools' command tables: `hotline/cli.py` adds them to the `hotline`
#: command; they import the tools themselves only inside the commands
DEV_TOOL_COMMANDS = frozenset({"hotline.devtools.cli", "hotline.bench.cli"})


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    path: str
    line: int
    #: inside a function or under `if TYPE_CHECKING`: not run when the module loads
    lazy: bool

    def __str__(self) -> str:
        how = " (lazy)" if self.lazy else ""
        return f"{self.source} -> {self.target} ({self.path}:{self.line}){how}"


def modules_of(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(node: ast.AST, lazy: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under `node`, and whether it runs only later (lazy)."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, lazy
    elif isinstance(node, ast.If) and _is_type_checking(node.test):
        for statement in node.body:
            yield from _statements(statement, True)
        for statement in node.orelse:
            yield from _statements(statement, lazy)
    else:
        inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            yield from _statements(child, inner)


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """The project module `name` is, or is in; None outside the project."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(
    statement: ast.Import | ast.ImportFrom, package: str, modules: Mapping[str, Path]
) -> list[str | None]:
    if isinstance(statement, ast.Import):
        return [_known(alias.name, modules) for alias in statement.names]
    base = statement.module or ""
    if statement.level:  # relative: from the importing module's package upwards
        anchor = package
        for _ in range(statement.level - 1):
            anchor = anchor.rpartition(".")[0]
        base = f"{anchor}.{base}" if base else anchor
    return [
        f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else _known(base, modules)
        for alias in statement.names
    ]


def imports_of(root: Path, modules: Mapping[str, Path]) -> list[Import]:
    """Every import of a project module by a project module."""
    found: list[Import] = []
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        where = str(path.relative_to(root))
        tree = ast.parse(path.read_text(encoding="utf-8"), where)
        for statement, lazy in _statements(tree, False):
            for target in dict.fromkeys(_targets(statement, package, modules)):
                if target is not None and target != module:
                    found.append(Import(module, target, where, statement.lineno, lazy))
    return found


@cache
def project_imports() -> tuple[Import, ...]:
    return tuple(imports_of(ROOT, modules_of(ROOT)))


# ---- the rules: each returns what breaks it, in words ---------------------------------------
def cycles(imports: Iterable[Import]) -> list[str]:
    """One cycle, as a chain of imports, for each group of modules that import each other."""
    edges: dict[str, dict[str, Import]] = {}
    for imp in imports:
        edges.setdefault(imp.source, {}).setdefault(imp.target, imp)
    problems = []
    for group in _strongly_connected(edges):
        if len(group) < 2:
            continue
        start = min(group)
        chain = _path_back(edges, start, group)
        problems.append(" ; ".join(str(imp) for imp in chain))
    return problems


def _strongly_connected(edges: Mapping[str, Mapping[str, Import]]) -> Iterator[set[str]]:
    # Tarjan's algorithm, iterative so a long chain cannot reach the recursion limit.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    nodes = sorted({*edges, *(t for targets in edges.values() for t in targets)})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, {}))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                yield group


def _path_back(
    edges: Mapping[str, Mapping[str, Import]], start: str, group: set[str]
) -> list[Import]:
    """The shortest chain of imports from `start` back to itself inside `group`."""
    came: dict[str, Import] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target, imp in sorted(edges.get(node, {}).items()):
                if target not in group or target in came:
                    continue
                came[target] = imp
                if target == start:
                    chain = [imp]
                    while chain[0].source != start:
                        chain.insert(0, came[chain[0].source])
                    return chain
                following.append(target)
        frontier = following
    raise AssertionError(f"no way back to {start} in {sorted(group)}")


def package_of(module: str) -> str:
    return module.partition(".")[0]


def package_arrows(imports: Iterable[Import]) -> list[str]:
    return [
        f"{package_of(imp.source)} may not import {package_of(imp.target)}: {imp}"
        for imp in imports
        if package_of(imp.target) != package_of(imp.source)
        and package_of(imp.target) not in PACKAGES[package_of(imp.source)]
    ]


def part_of(module: str) -> str:
    """`hotline.roster.store` -> "roster"; `hotline.service` -> "service"; "" otherwise."""
    parts = module.split(".")
    return parts[1] if parts[0] == "hotline" and len(parts) > 1 else ""


def _role(part: str) -> str:
    return part if part in HOTLINE_PARTS or part in DEV_TOOLS or not part else FEATURE


def is_command_module(module: str) -> bool:
    return module == "hotline.cli" or module.startswith("hotline.") and module.endswith(".cli")


def hotline_arrows(imports: Iterable[Import]) -> list[str]:
    problems = []
    for imp in imports:
        source, target = part_of(imp.source), part_of(imp.target)
        if package_of(imp.source) != "hotline" or package_of(imp.target) != "hotline":
            continue
        if source == target or _role(source) in DEV_TOOLS or _role(target) in DEV_TOOLS:
            continue  # the development tools have a rule of their own
        if imp.lazy and is_command_module(imp.source):
            continue
        allowed = HOTLINE_PARTS.get(_role(source), frozenset())
        if _role(source) == FEATURE:
            allowed = allowed | FEATURE_USES.get(source, frozenset())
        if target not in allowed and _role(target) not in allowed:
            problems.append(f"hotline/{source or '__init__'} may not import {target}: {imp}")
    return problems


def is_dev_tool(module: str) -> bool:
    return package_of(module) == "hotline" and part_of(module) in DEV_TOOLS


def dev_tool_arrows(imports: Iterable[Import]) -> list[str]:
    """The product never loads a development tool: only a command, when it runs, imports one
    (`hotline sandbox ...`, `hotline bench ...`, `hotline serve` starting the sandbox)."""
    problems = []
    for imp in imports:
        if not is_dev_tool(imp.target):
            continue
        if is_dev_tool(imp.source):
            if imp.source in DEV_TOOL_COMMANDS and imp.target != imp.source and not imp.lazy:
                problems.append(f"a command table loads a development tool at start-up: {imp}")
            continue
        if imp.source == "hotline.cli" and imp.target in DEV_TOOL_COMMANDS:
            continue
        if is_command_module(imp.source) and imp.lazy:
            continue
        problems.append(f"the product imports a development tool: {imp}")
    return problems


# ---- the project ---------------------------------------------------------------------------
def test_the_scan_sees_every_package_and_lazy_imports() -> None:
    imports = project_imports()
    sources = {package_of(imp.source) for imp in imports}
    assert sources == set(PACKAGES)
    # Known arrows, one of each kind: module level, inside a function, a package's __init__.
    seen = {(imp.source, imp.target, imp.lazy) for imp in imports}
    assert ("asr.server", "telephony.audiosocket", False) in seen
    assert ("routing.router", "routing.classifier", True) in seen
    assert ("routing.classifier", "routing.emergency", False) in seen
    assert ("asr", "asr.server", False) in seen


def test_no_import_cycle() -> None:
    problems = cycles(project_imports())
    assert not problems, "import cycles:\n" + "\n".join(problems)


def test_packages_import_only_the_packages_below_them() -> None:
    problems = package_arrows(project_imports())
    assert not problems, "\n".join(problems)


def test_hotline_parts_import_only_the_parts_below_them() -> None:
    problems = hotline_arrows(project_imports())
    assert not problems, "\n".join(problems)


def test_the_product_never_loads_a_development_tool() -> None:
    problems = dev_tool_arrows(project_imports())
    assert not problems, "\n".join(problems)


# ---- the rules catch what they are for -----------------------------------------------------
def imp(source: str, target: str, lazy: bool = False) -> Import:
    return Import(source, target, source.replace(".", "/") + ".py", 1, lazy)


def test_the_rules_catch_the_arrows_they_forbid() -> None:
    # Arrows this tree once had, before the layering was enforced.
    assert cycles([imp("asr.events", "asr.server", lazy=True), imp("asr.server", "asr.events")])
    assert cycles(
        [imp("hotline.ivr.runtime", "hotline.calls.flow", lazy=True)]
        + [imp("hotline.calls.flow", "hotline.ivr.runtime")]
    )
    assert package_arrows([imp("routing.router", "ivr.routing_port")])
    assert package_arrows([imp("ivr.speech", "routing", lazy=True)])
    assert package_arrows([imp("ivr.router", "routing.taxonomy")])
    assert package_arrows([imp("routing.roster", "hotline.core.settings")])
    assert package_arrows([imp("telephony.agi", "asr.server")])
    assert hotline_arrows([imp("hotline.web.app", "hotline.ivr.api")])
    assert hotline_arrows([imp("hotline.core.db", "hotline.roster.tables")])
    assert hotline_arrows([imp("hotline.ivr.runtime", "hotline.roster.feature")])
    assert hotline_arrows([imp("hotline.roster.store", "hotline.service", lazy=True)])
    assert dev_tool_arrows([imp("hotline.recordings.feature", "hotline.devtools.sandbox", True)])
    assert dev_tool_arrows([imp("hotline.core.cli", "hotline.devtools.sandbox")])
    assert dev_tool_arrows([imp("hotline.service", "hotline.bench.calls", lazy=True)])
    assert dev_tool_arrows([imp("hotline.bench.cli", "hotline.bench.calls")])
    # ... and let through the ones they allow.
    assert not cycles([imp("a.b", "a.c"), imp("a.c", "a.d"), imp("a.b", "a.d")])
    assert not package_arrows([imp("asr.server", "telephony.audiosocket")])
    assert not package_arrows([imp("hotline.ivr.ports", "routing.router")])
    assert not hotline_arrows([imp("hotline.roster.store", "hotline.calls.tables")])
    assert not hotline_arrows([imp("hotline.core.cli", "hotline.service", lazy=True)])
    assert not dev_tool_arrows([imp("hotline.core.cli", "hotline.devtools.sandbox", lazy=True)])
    assert not dev_tool_arrows([imp("hotline.cli", "hotline.bench.cli")])
    assert not dev_tool_arrows([imp("hotline.bench.calls", "hotline.service")])


def test_a_cycle_is_reported_as_its_chain_of_imports() -> None:
    [problem] = cycles([imp("p.a", "p.b"), imp("p.b", "p.c"), imp("p.c", "p.a"), imp("p.c", "q")])
    assert problem == "p.a -> p.b (p/a.py:1) ; p.b -> p.c (p/b.py:1) ; p.c -> p.a (p/c.py:1)"
