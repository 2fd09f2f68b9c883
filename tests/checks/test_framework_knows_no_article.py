"""``apps.checks`` is a framework that knows no article: no input, check key or step block of one.

Every article's inputs and checks come from its check set, registered by the
app that owns them; a step block's shape is known only to ``apps.help``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from apps.checks.registry import check_catalog
from apps.checks.sets import check_sets

FRAMEWORK = Path(__file__).resolve().parents[2] / "apps" / "checks"
# What only an article's owner may name: its inputs (also as identifiers) and a step block's shape.
BLOCK_SHAPE = {"block_type", "step", "check"}


def article_words() -> set[str]:
    """Every registered check key, check set key and check set input name."""
    words = {check.key for check in check_catalog()}
    for check_set in check_sets():
        words.add(check_set.key)
        words.update(typed.name for typed in check_set.inputs)
    return words


def framework_modules() -> dict[str, Path]:
    """Every module of ``apps.checks`` by its path in it, subpackages' too; migrations record history."""
    return {
        path.relative_to(FRAMEWORK).as_posix(): path
        for path in sorted(FRAMEWORK.rglob("*.py"))
        if "migrations" not in path.relative_to(FRAMEWORK).parts
    }


def leaks(source: str, words: set[str]) -> list[str]:
    """Where ``source`` names one of ``words`` (as a string or an identifier) or reads a step block."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in words:
            found.append(f"line {line}: the literal {node.value!r}")
        elif isinstance(node, ast.Name) and node.id in words:
            found.append(f"line {line}: the name {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in words | {"block_type"}:
            found.append(f"line {line}: the attribute .{node.attr}")
        elif isinstance(node, ast.arg) and node.arg in words:
            found.append(f"line {line}: the argument {node.arg}")
        elif isinstance(node, ast.keyword) and node.arg in words:
            found.append(f"line {line}: the keyword {node.arg}=")
        elif (
            isinstance(node, ast.Compare)
            and any(isinstance(c, ast.Constant) and c.value in BLOCK_SHAPE for c in node.comparators)
            and isinstance(node.left, ast.Attribute)
            and node.left.attr == "block_type"
        ):
            found.append(f"line {line}: a step block's type")
    return found


def test_the_framework_names_no_articles_input_check_key_or_step_block():
    words = article_words()
    assert {
        "order_number",
        "placed_date",
        "import_orders_enabled",
        "order-import",
    } <= words  # the registry is read

    modules = framework_modules()
    assert {"views.py", "services/starting.py", "selectors/panel.py"} <= modules.keys()  # the walk goes down
    found = {name: leak for name, path in modules.items() if (leak := leaks(path.read_text(), words))}

    assert found == {}


def test_the_fitness_test_catches_an_input_a_check_key_and_a_step_block():
    words = article_words()
    source = """
def start(request, order_number):
    if get_check("import_orders_enabled").needs:
        pass
    return [b for b in page.body if b.block_type == "step"], ctx.placed_date
"""
    found = leaks(source, words)

    assert any("argument order_number" in leak for leak in found)
    assert any("'import_orders_enabled'" in leak for leak in found)
    assert any(".block_type" in leak for leak in found)
    assert any(".placed_date" in leak for leak in found)
