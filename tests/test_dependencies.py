"""The dependency order of the code, read from its imports (parsed, not executed).

Apps import each other only downwards in LAYERS (bottom first), so no two apps import each
other, however indirectly; `geo/` imports nothing of the project and `sync/` only
`accounts` and `fieldline`. Inside crm the sub-domain packages follow CRM_LAYERS. An import
a type checker alone reads (under `if TYPE_CHECKING:`) is not a dependency; an import
inside a function is. The project's wiring (fieldline's settings and URLs, the WSGI and
ASGI entry points, manage.py) imports every app by design and is left out. The README's
"Where things are" states the same order.
"""

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"
LAYERS = (
    "geo",
    "fieldline",
    "accounts",
    "sync",
    "stores",
    "surveys",
    "tasks",
    "visits",
    "photos",
    "planning",
    "crm",
    "reports",
    "hq",
    "fieldapp",
    "demo",
)
# What sync/ and geo/ may import of the project (besides themselves).
ALLOWED = {"geo": set(), "sync": {"accounts", "fieldline"}}
CRM_LAYERS = ("orders", "calls", "analytics", "subsidies")
WIRING = {
    "manage.py",
    "fieldline/urls.py",
    "fieldline/wsgi.py",
    "fieldline/asgi.py",
    "fieldline/settings.py",
    "fieldline/test_settings.py",
}


def project_apps() -> set[str]:
    apps = {path.parent.name for path in BACKEND.glob("*/__init__.py")}
    return apps | {"sync", "geo"}


def sources() -> Iterator[tuple[str, Path]]:
    """(app, file) for every module of the apps, migrations and the wiring left out."""
    for path in sorted(BACKEND.rglob("*.py")):
        relative = path.relative_to(BACKEND)
        if "migrations" in relative.parts or relative.as_posix() in WIRING:
            continue
        if len(relative.parts) > 1:
            yield relative.parts[0], path
    for app in ("sync", "geo"):
        for path in sorted((ROOT / app).rglob("*.py")):
            yield app, path


def type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(module, line) of every absolute import, at any depth, but not those under
    `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno
            for alias in node.names:  # `from crm import services` names a module too
                yield f"{node.module}.{alias.name}", node.lineno
        stack.extend(ast.iter_child_nodes(node))


def import_edges() -> dict[tuple[str, str], list[str]]:
    """{(importing app, imported app): [file:line, ...]} between different apps."""
    apps = project_apps()
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app, path in sources():
        for module, line in imported_modules(ast.parse(path.read_text(), str(path))):
            target = module.split(".")[0]
            if target in apps and target != app:
                edges[(app, target)].append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def cycles(edges) -> list[list[str]]:
    """The strongly connected groups of more than one app (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for neighbour in sorted(graph[node]):
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_two_apps_import_each_other():
    edges = import_edges()
    found = cycles(edges)
    detail = {
        f"{a} -> {b}": places[:3]
        for group in found
        for (a, b), places in edges.items()
        if a in group and b in group
    }
    assert not found, detail


def test_sync_and_geo_import_no_domain_app():
    wrong = {
        f"{app} -> {target}": places[:3]
        for (app, target), places in import_edges().items()
        if app in ALLOWED and target not in ALLOWED[app]
    }
    assert not wrong


def test_every_app_imports_only_apps_below_it():
    assert set(LAYERS) == project_apps(), "every app has its place in LAYERS"
    upward = {
        f"{app} -> {target}": places[:3]
        for (app, target), places in import_edges().items()
        if LAYERS.index(target) > LAYERS.index(app)
    }
    assert not upward


def test_crm_packages_import_only_packages_below_them():
    upward = {}
    for package in CRM_LAYERS:
        for path in sorted((BACKEND / "crm" / package).rglob("*.py")):
            for module, line in imported_modules(ast.parse(path.read_text())):
                parts = module.split(".")
                if parts[0] != "crm" or len(parts) < 2:
                    continue
                target = parts[1]
                if target not in CRM_LAYERS:
                    # crm.models/crm.jobs/crm.urls gather the packages: never from inside one.
                    upward[f"{package} -> crm.{target}"] = f"{path.relative_to(ROOT)}:{line}"
                elif CRM_LAYERS.index(target) > CRM_LAYERS.index(package):
                    upward[f"{package} -> {target}"] = f"{path.relative_to(ROOT)}:{line}"
    assert not upward


def test_the_walk_sees_an_upward_import_and_a_cycle():
    # The checks above are only as good as the walk: it finds imports at any depth,
    # skips those for type checkers, and the cycle search finds a loop.
    tree = ast.parse(
        "import a.b\n"
        "from c import d\n"
        "def f():\n"
        "    from e.f import g\n"
        "if TYPE_CHECKING:\n"
        "    import h\n"
    )
    modules = {module for module, _line in imported_modules(tree)}
    assert {"a.b", "c", "c.d", "e.f", "e.f.g"} <= modules
    assert "h" not in modules
    assert cycles({("x", "y"): [], ("y", "z"): [], ("z", "x"): [], ("z", "w"): []}) == [
        ["x", "y", "z"]
    ]
