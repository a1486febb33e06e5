"""The command line speaks Japanese, from click's own messages to a failed command's last line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

COMMANDS = ("init", "check", "generate", "collect", "summarize", "run", "mail", "demo")
# English a user might meet: click's words, Python's error vocabulary, our own codes
ENGLISH = re.compile(r"(?<![-\w])(Usage|Options|Commands|Error|Missing|No such|Try|argument|option|Show this|"
                     r"version|Aborted|Invalid|does not|is not|required|needs_fix|submitted|Traceback)\b")


def xlsx_tool(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """The installed entry point as a user runs it, output piped (not a terminal)."""
    return subprocess.run([sys.executable, "-c", "from xlsx_tool.cli import main; main()", *args],
                          capture_output=True, text=True, encoding="utf-8", cwd=cwd, timeout=120)


def english(text: str) -> list[str]:
    return [line for line in text.splitlines() if ENGLISH.search(line)]


@pytest.mark.parametrize("args", [
    pytest.param([], id="no-command"),
    pytest.param(["--help"], id="help"),
    pytest.param(["colect"], id="misspelt-command"),
    pytest.param(["collect"], id="missing-folder"),
    pytest.param(["collect", "存在しないフォルダ"], id="no-such-folder"),
    pytest.param(["collect", ".", "--jsn"], id="misspelt-option"),
    pytest.param(["init", "x", "--year", "二〇二一"], id="not-a-number"),
    pytest.param(["init", "x", "--year", "1800"], id="out-of-range"),
    pytest.param(["summarize", ".", "extra"], id="extra-argument"),
    pytest.param(["--version"], id="version"),
    *[pytest.param([c, "--help"], id=f"{c}-help") for c in COMMANDS],
])
def test_no_english_reaches_the_user(tmp_path, args):
    res = xlsx_tool(*args, cwd=tmp_path)
    out = res.stdout + res.stderr
    assert out.strip(), args
    assert english(out) == [], out
    assert res.returncode in (0, 2), (res.returncode, out)
    if res.returncode == 2:
        assert "エラー" in res.stderr or "使い方" in res.stderr


def test_help_lists_each_command_once_in_cycle_order():
    out = xlsx_tool("--help").stdout
    listed = [line.split()[0] for line in out.split("コマンド:", 1)[1].splitlines() if line.startswith("  ")]
    assert listed == list(COMMANDS)
    assert "使い方: xlsx-tool [オプション] コマンド [引数]..." in out


def test_misspelt_command_suggests_the_right_one():
    res = xlsx_tool("colect")
    assert "コマンド「colect」はありません" in res.stderr and "collect" in res.stderr


@pytest.mark.e2e
def test_piped_collect_has_no_progress_bar_glued_to_its_output(tmp_path):
    assert xlsx_tool("demo", str(tmp_path / "d")).returncode == 0
    res = xlsx_tool("collect", str(tmp_path / "d"))
    assert res.returncode == 0
    assert "読み取り中" not in res.stderr and "\r" not in res.stdout + res.stderr
    header = res.stdout.splitlines()[0]
    assert header.startswith("所管課") and "状況" in header


@pytest.mark.e2e
def test_failed_init_leaves_nothing_half_made(tmp_path):
    bad = tmp_path / "新調査"
    res = xlsx_tool("init", str(bad), "--template", "存在しない")
    assert res.returncode == 2 and "テンプレート「存在しない」はありません" in res.stderr
    assert not bad.exists() or not any(bad.iterdir())
    again = xlsx_tool("init", str(bad), "--template", "2025", "--year", "2024")
    assert again.returncode == 0, again.stderr


@pytest.mark.e2e
def test_messages_name_years_in_wareki(tmp_path):
    res = xlsx_tool("init", str(tmp_path / "s"), "--year", "2019")
    assert res.returncode == 0
    check = xlsx_tool("check", str(tmp_path / "s"))
    assert "令和元年度" in check.stdout


@pytest.mark.parametrize(("args", "said"), [
    (["collect"], "エラー: 「調査フォルダ」を指定してください。"),
    (["collect", "存在しないフォルダ"], "エラー: 「調査フォルダ」の値が正しくありません。フォルダ「存在しないフォルダ」がありません。"),
    (["init", "x", "--year", "二〇二一"], "エラー: 「--year」の値が正しくありません。「二〇二一」は西暦の年度（例: 2021）ではありません。"),
    (["init", "x", "--year", "1800"], "エラー: 「--year」の値が正しくありません。1800 は範囲（1989〜2200）の外です。"),
    (["mail", ".", "send"], "エラー: 「種類」の値が正しくありません。「send」は使えません。distribute・remind・correct・receipt のいずれかを指定してください。"),
    (["summarize", ".", "extra"], "エラー: 余分な引数があります（extra）。"),
])
def test_clicks_punctuation_is_japanese(tmp_path, args, said):
    """Not 「エラー: 引数がありません '調査フォルダ'.」: Japanese quotes, a Japanese full stop."""
    res = xlsx_tool(*args, cwd=tmp_path)
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(said), last
    assert "'" not in last and not re.search(r"[^\x00-\x7f]\.$", last)
