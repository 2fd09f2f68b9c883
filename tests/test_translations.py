"""Everything the software says is translated into German and French, and said in whole sentences.

The catalogues are brought up to date from the code the way a translator's
``./dev messages`` does, in a copy of the source: a message added to the code
and not translated, or changed so that its translation went fuzzy, fails here
by its English text. The compiled catalogues the site loads must say what
their sources say. And no message may be glued together from fragments:
``said()`` takes a literal whole sentence, and what checks, fixes and the
summary say is a message, never an f-string or a concatenation.
"""

from __future__ import annotations

import ast
import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("de", "fr")
# Where the project's messages are: apps/*, the project package and the templates (README, "Languages").
SOURCES = ("apps", "kitty_troubleshoot", "templates")


def _gettext_tools():
    if not (shutil.which("msgfmt") and shutil.which("xgettext") and shutil.which("msgattrib")):
        service_missing("GNU gettext is not installed (apt-get install gettext)")


def _catalogues(root: Path) -> list[Path]:
    return sorted(p for source in SOURCES for p in (root / source).rglob("locale/*/LC_MESSAGES/django.po"))


def _entries(po: Path, *flags: str) -> list[str]:
    """The msgids of the entries ``msgattrib`` selects (e.g. untranslated), the header left out."""
    out = subprocess.run(
        ["msgattrib", *flags, "--no-wrap", str(po)], capture_output=True, text=True, check=True
    ).stdout
    return [
        line[len('msgid "') : -1]
        for line in out.splitlines()
        if line.startswith('msgid "') and line != 'msgid ""'
    ]


@pytest.fixture(scope="module")
def catalogues_from_the_code(tmp_path_factory) -> Path:
    """A copy of the source whose catalogues ``makemessages`` brought up to date with its code."""
    _gettext_tools()
    copy = tmp_path_factory.mktemp("messages")
    for source in SOURCES:
        shutil.copytree(
            ROOT / source, copy / source, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "*.pyc")
        )
    shutil.copy(ROOT / "manage.py", copy)
    env = {
        **os.environ,
        "DEBUG": "1",
        "PYTHONPATH": str(copy),
        "DJANGO_SETTINGS_MODULE": "kitty_troubleshoot.settings",
    }
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--all", "--no-obsolete", "--no-location", "-v", "0"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    return copy


def test_the_site_has_a_catalogue_in_each_language_for_its_templates_and_checks():
    found = {str(p.relative_to(ROOT)) for p in _catalogues(ROOT)}
    for language in LANGUAGES:
        for place in ("templates", "apps/checks", "apps/commerce"):
            assert f"{place}/locale/{language}/LC_MESSAGES/django.po" in found


def test_every_message_of_the_code_is_translated_in_german_and_french(catalogues_from_the_code):
    problems = []
    for po in _catalogues(catalogues_from_the_code):
        if po.parent.parent.name not in LANGUAGES:
            continue
        where = po.relative_to(catalogues_from_the_code)
        problems += [f"{where}: untranslated: {m}" for m in _entries(po, "--untranslated")]
        problems += [f"{where}: fuzzy (the English changed): {m}" for m in _entries(po, "--only-fuzzy")]
    assert not problems, f"{len(problems)} messages to translate:\n" + "\n".join(problems[:40])


def test_the_catalogues_the_site_loads_are_compiled_from_their_sources(tmp_path):
    _gettext_tools()
    for po in _catalogues(ROOT):
        # --check: every translation keeps its English's %(placeholders)s.
        compiled = tmp_path / "check.mo"
        subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(po)], check=True, capture_output=True)
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{po.relative_to(ROOT)} is not compiled: run ./dev messages"
        with mo.open("rb") as shipped, compiled.open("rb") as fresh:
            assert gettext.GNUTranslations(shipped)._catalog == gettext.GNUTranslations(fresh)._catalog, (
                f"{mo.relative_to(ROOT)} is older than its .po: run ./dev messages"
            )


def catalogue_pairs(language: str) -> list[tuple[str, str]]:
    """(English, translation) of every message the site can say, from the compiled catalogues it loads."""
    pairs = []
    for po in _catalogues(ROOT):
        if po.parent.parent.name != language or not po.with_suffix(".mo").exists():
            continue
        with po.with_suffix(".mo").open("rb") as mo:
            catalog = gettext.GNUTranslations(mo)._catalog
        for key, translated in catalog.items():
            english = key[0] if isinstance(key, tuple) else key
            if english:
                pairs.append((english.rpartition("\x04")[2], translated))
    return pairs


# --- Whole sentences ---------------------------------------------------------------

MESSAGE_FUNCTIONS = {"said": 1, "said_n": 2, "said_p": 2}  # how many leading arguments are literal text
# Constructors and calls whose text arguments are what a person reads: (positional from, keywords).
SAID_ARGUMENTS = {
    "passed": (0, ()),
    "failed": (0, ()),
    "unknown": (0, ()),
    "Fix": (1, ("label", "description", "choice_label", "unavailable")),
    "SummaryLine": (0, ("text",)),
    "InputError": (1, ("message",)),
}


def _python_files():
    for source in ("apps", "kitty_troubleshoot"):
        for path in (ROOT / source).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def _name(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _glued(node) -> bool:
    """Text made of pieces: an f-string, a concatenation, %-formatting or a join of text."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return True
    return isinstance(node, ast.Call) and _name(node.func) in {"join", "format"}


def _plain_text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value.strip())


def test_messages_are_whole_sentences_never_glued_together():
    problems = []
    for path in _python_files():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if name in MESSAGE_FUNCTIONS and isinstance(node.func, ast.Name):
                for arg in node.args[: MESSAGE_FUNCTIONS[name]]:
                    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                        problems.append(f"{where}: {name}() takes a literal sentence, not {ast.unparse(arg)}")
            if name in SAID_ARGUMENTS:
                if (
                    name in {"passed", "failed", "unknown"}
                    and _name(getattr(node.func, "value", None)) != "Outcome"
                ):
                    continue
                start, keywords = SAID_ARGUMENTS[name]
                args = node.args[start:] + [k.value for k in node.keywords if k.arg in keywords]
                for arg in args:
                    if _glued(arg) or _plain_text(arg):
                        problems.append(
                            f"{where}: {name}(…{ast.unparse(arg)[:70]}…) is not a message: use said()"
                        )
    assert not problems, "\n".join(problems)
