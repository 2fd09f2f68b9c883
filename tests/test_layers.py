"""The code's layers, lowest first; a module imports only from layers below its own.

 1. ``kitty_troubleshoot``'s shared helpers: params, limits, words, decorators, celery, cache,
    admin, … (every module of it but the project's wiring, 9). Any app may use them; they use no app.
 2. ``apps.platforms``: the source platforms' clients behind one interface. ``apps.languages``:
    the language a person chose, which everything that speaks to a person reads.
 3. ``apps.checks``: the check framework (registry, runs, the widget, the account a request works in).
 4. ``apps.commerce``: the Commerce Kitty account, the importer and its rules, the order-import checks.
 5. ``apps.support``: support tickets that carry a diagnosis.
 6. ``apps.help``: the help center's pages; the articles and their steps, which the layers above read.
 7. ``apps.follow`` and ``apps.incidents``: what follows a diagnosis, and what many merchants meet
    at once. Neither imports the other.
 8. ``apps.insights``: what editors learn; it counts everything below it, and nothing imports it.
    ``apps.api``: the JSON API and the MCP server, other doors onto what the layers below
    do for the page; nothing imports it either.
 9. The project's wiring: ``kitty_troubleshoot``'s settings, urls, wsgi and management commands.

An import counts wherever it is (module level, inside a function, under TYPE_CHECKING);
migrations are left out, as they record history. Packages of one layer do not import each
other, and no two packages import each other. Where a lower layer needs a higher one, the
higher one hands itself in: a hook it sets in its ``AppConfig.ready`` (insights' search log
for the help page, commerce's account directory for the checks), a signal it connects to
(follow on commerce's ``orders_imported``), or a template and template tag of its own
(incidents' notes and follow's bell in the widget).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
HELPERS = "kitty_troubleshoot"
PROJECT = "kitty_troubleshoot's wiring"
PROJECT_MODULES = (
    "kitty_troubleshoot.settings",
    "kitty_troubleshoot.urls",
    "kitty_troubleshoot.wsgi",
    "kitty_troubleshoot.management",
)
LAYERS: list[set[str]] = [
    {HELPERS},
    {"apps.platforms", "apps.languages"},
    {"apps.checks"},
    {"apps.commerce"},
    {"apps.support"},
    {"apps.help"},
    {"apps.follow", "apps.incidents"},
    {"apps.insights", "apps.api"},
    {PROJECT},
]
LAYER_OF = {package: number for number, layer in enumerate(LAYERS, 1) for package in layer}


def module_name(path: str) -> str:
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str | None:
    """The layered package a module belongs to; None for what is not ours (Django, Wagtail, …)."""
    parts = module.split(".")
    if parts[0] == "kitty_troubleshoot":
        wiring = any(module == name or module.startswith(f"{name}.") for name in PROJECT_MODULES)
        return PROJECT if wiring else HELPERS
    if parts[0] == "apps" and len(parts) > 1:
        return f"apps.{parts[1]}"
    return None


def imported_modules(path: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The absolute names one import statement reaches (relative imports resolved from ``path``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module_name(path).split(".")
        if not path.endswith("__init__.py"):
            package = package[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    # "from apps import help" reaches a package through a name it imports.
    return [f"{base}.{alias.name}" for alias in node.names]


def imports_of(path: str, source: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """(import statement, package it reaches) for every import in a module, wherever it is."""
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for package in dict.fromkeys(package_of(name) for name in imported_modules(path, node)):
                if package is not None:
                    yield node, package


def layer_violations(sources: Iterable[tuple[str, str]]) -> list[str]:
    """Every import that breaks the layers, as "file:line: import: why"; [] when there is none."""
    problems: list[str] = []
    edges: dict[tuple[str, str], list[str]] = {}
    for path, source in sources:
        importer = package_of(module_name(path))
        if importer is None:  # apps/__init__.py: the namespace, no code of its own
            continue
        if importer not in LAYER_OF:
            problems.append(f"{path}: {importer} has no layer; add it to LAYERS in tests/test_layers.py")
            continue
        for node, imported in imports_of(path, source):
            if imported == importer:
                continue
            where = f"{path}:{node.lineno}: {ast.unparse(node)}"
            edges.setdefault((importer, imported), []).append(where)
            if imported not in LAYER_OF:
                problems.append(f"{where}: {imported} has no layer")
            elif LAYER_OF[imported] > LAYER_OF[importer]:
                problems.append(
                    f"{where}: {importer} (layer {LAYER_OF[importer]}) imports {imported}, "
                    f"a higher layer ({LAYER_OF[imported]})"
                )
            elif LAYER_OF[imported] == LAYER_OF[importer]:
                problems.append(
                    f"{where}: {importer} imports {imported}, beside it in layer {LAYER_OF[importer]}"
                )
    for (importer, imported), wheres in sorted(edges.items()):
        back = edges.get((imported, importer))
        if back and importer < imported:
            problems.append(f"{importer} and {imported} import each other: {wheres[0]}; and {back[0]}")
    return problems


def repository_sources() -> Iterator[tuple[str, str]]:
    for base in ("apps", "kitty_troubleshoot"):
        for path in sorted((ROOT / base).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            yield relative.as_posix(), path.read_text(encoding="utf-8")


def test_every_import_points_down_the_layers_and_no_two_packages_import_each_other():
    sources = list(repository_sources())
    assert len(sources) > 100  # the walk found the code

    assert layer_violations(sources) == []


def test_the_check_names_an_upward_import_even_inside_a_function():
    sneaky = (
        "def label():\n    from apps.help.models import TroubleshootingPage\n    return TroubleshootingPage\n"
    )

    problems = layer_violations([*repository_sources(), ("apps/platforms/sneaky.py", sneaky)])

    assert problems == [
        "apps/platforms/sneaky.py:2: from apps.help.models import TroubleshootingPage: "
        "apps.platforms (layer 2) imports apps.help, a higher layer (6)"
    ]


def test_the_check_names_two_packages_that_import_each_other_and_resolves_relative_imports():
    sources = [
        ("apps/support/forms.py", "from apps.help.models import TroubleshootingPage\n"),
        ("apps/help/selectors.py", "from ..support import selectors\n"),
        ("apps/follow/views.py", "import apps.incidents.selectors\n"),
    ]

    problems = layer_violations(sources)

    assert problems == [
        "apps/support/forms.py:1: from apps.help.models import TroubleshootingPage: "
        "apps.support (layer 5) imports apps.help, a higher layer (6)",
        "apps/follow/views.py:1: import apps.incidents.selectors: "
        "apps.follow imports apps.incidents, beside it in layer 7",
        "apps.help and apps.support import each other: "
        "apps/help/selectors.py:1: from ..support import selectors; "
        "and apps/support/forms.py:1: from apps.help.models import TroubleshootingPage",
    ]


def test_a_package_in_no_layer_is_named():
    problems = layer_violations([("apps/newsletter/models.py", "from apps.checks.models import CheckRun\n")])

    assert problems == [
        "apps/newsletter/models.py: apps.newsletter has no layer; add it to LAYERS in tests/test_layers.py"
    ]


# --- One place decides where a redirect may go -----------------------------------------------------

SAFE_REDIRECT = "kitty_troubleshoot/params.py"


def redirect_checks_elsewhere(sources: Iterable[tuple[str, str]]) -> list[str]:
    """Every use of Django's host check, or another ``safe_next``, outside ``params.safe_next``."""
    found = []
    for path, source in sources:
        if path == SAFE_REDIRECT:
            continue
        for node in ast.walk(ast.parse(source, filename=path)):
            names = []
            if isinstance(node, ast.Name | ast.Attribute):
                names = [node.id if isinstance(node, ast.Name) else node.attr]
            elif isinstance(node, ast.ImportFrom):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "safe_next" in node.name:
                names = [node.name]
            if "url_has_allowed_host_and_scheme" in names or any(
                name != "safe_next" and "safe_next" in name for name in names
            ):
                found.append(f"{path}:{node.lineno}: {names[0]}")
    return found


def test_every_redirect_to_a_next_address_goes_through_safe_next():
    assert redirect_checks_elsewhere(repository_sources()) == []


def test_the_redirect_check_finds_a_second_helper():
    second = (
        "from django.utils.http import url_has_allowed_host_and_scheme\n\n\n"
        "def _safe_next(request, value):\n"
        "    return value if url_has_allowed_host_and_scheme(value, None) else '/'\n"
    )

    assert redirect_checks_elsewhere([("apps/help/views.py", second)]) == [
        "apps/help/views.py:1: url_has_allowed_host_and_scheme",
        "apps/help/views.py:4: _safe_next",
        "apps/help/views.py:5: url_has_allowed_host_and_scheme",
    ]
