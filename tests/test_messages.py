"""Every sentence a user reads comes from the messages table (problems.py), and the table holds
no sentence nobody uses: the package's source is read (ast) for the codes it names, the
placeholders each call fills, and any exception raised with a sentence of its own."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from xlsx_tool import problems as P

PACKAGE = Path(P.__file__).resolve().parent  # the package under test, wherever it is installed
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
POSITION = {"file", "sheet", "cell", "row", "column", "measure", "field", "department"}
# the functions that fill a sentence from keywords (P.make and the wrappers around it, P.sentence),
# and the placeholders a wrapper adds itself: Submission.add (department), _Builder.refuse (field).
# Refused, TableError and a task's failed() carry their one detail positionally.
FILLERS = {"make", "add", "problem", "refuse", "_problem", "sentence"}
IMPLIED = {"add": {"department"}, "refuse": {"field"}}


def sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


def fields(template: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name}


def calls_naming_a_code() -> list[tuple[str, int, str, str, set[str], bool]]:
    """(file, line, function, code, keywords, has **) for every call that names a code."""
    codes = set(P.MESSAGES) | set(P.SENTENCES)
    found = []
    for path, text in sources().items():
        if path.name == "problems.py":
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in FILLERS:
                continue
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value in codes:
                    keywords = {k.arg for k in node.keywords if k.arg}
                    double = any(k.arg is None for k in node.keywords)
                    found.append((path.name, node.lineno, name, arg.value, keywords, double))
    return found


def test_every_code_of_the_table_is_used_somewhere():
    text = "\n".join(t for p, t in sources().items() if p.name != "problems.py")
    assert len(text) > 100_000  # the package's source was found
    unused = sorted(c for c in [*P.MESSAGES, *P.SENTENCES] if f'"{c}"' not in text)
    assert unused == []
    assert set(P.SHORT) <= set(P.MESSAGES)


def test_every_call_fills_every_placeholder_of_its_sentence():
    missing = []
    for file, line, function, code, keywords, double in calls_naming_a_code():
        if double:
            continue  # keywords passed on from a caller: that caller is checked
        template = P.MESSAGES[code][1] if code in P.MESSAGES else P.SENTENCES[code]
        given = keywords | IMPLIED.get(function, set())
        if code in P.MESSAGES:
            given |= {"file"}  # every finding names its file (the wrappers add it)
        lacking = fields(template) - given
        if lacking:
            missing.append((file, line, code, sorted(lacking)))
    assert missing == []
    assert len(calls_naming_a_code()) > 100  # the scan does find the calls


def test_sentences_are_strict_and_findings_are_bounded():
    assert P.sentence("survey-exists", folder="x", file="survey.toml") == \
        "x には既に survey.toml があります。別のフォルダを指定してください。"
    try:
        P.sentence("survey-exists", folder="x")
    except KeyError as exc:
        assert exc.args == ("file",)
    else:
        raise AssertionError("a missing placeholder must not pass silently")


def test_no_exception_carries_a_sentence_of_its_own():
    """Exceptions for users get their sentence from the table (P.sentence), never inline."""
    inline = []
    for path, text in sources().items():
        for node in ast.walk(ast.parse(text)):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if not (name.endswith(("Error", "Errors", "Answers", "TooNew", "Changed")) or name == "__init__"):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant | ast.JoinedStr) and JAPANESE.search(ast.unparse(first)):
                inline.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert inline == []
