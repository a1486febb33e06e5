"""What Windows asks of the tool (DESIGN §11), checked where it can be: the package's source on
every platform, and the behaviour itself on Windows CPython (the Windows lane of .ci/run runs
this suite under Wine, with the users' code page 932)."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import xlsx_tool
from tests.support.wine import windows_only
from xlsx_tool.cli import cli

PACKAGE = Path(xlsx_tool.__file__).parent

# --- no strftime with a non-ASCII format ------------------------------------------------------
#
# Before 3.12, Windows CPython encodes a strftime format in the locale's code page: 「%Y年」 raises
# UnicodeEncodeError under a code page without 年 (CPython issue 52551), and Wine's ja_JP locale
# raised ValueError on 3.11 and 3.12. Dates are formatted in Python instead.

_FORMAT_FIELD = re.compile(r"\{[^{}]*:[^{}]*%[^{}]*\}")  # "{:%Y年}" for str.format / format()


def non_ascii_strftime(source: str) -> list[int]:
    """Lines where a date would be formatted by strftime with a non-ASCII format."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "strftime" and node.args:
            fmt = node.args[0]
            text = fmt.value if isinstance(fmt, ast.Constant) and isinstance(fmt.value, str) \
                else ast.unparse(fmt)
            if not text.isascii():
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "format" \
                and len(node.args) == 2 and isinstance(node.args[1], ast.Constant) \
                and "%" in str(node.args[1].value) and not str(node.args[1].value).isascii():
            lines.append(node.lineno)
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            spec = ast.unparse(node.format_spec)  # f"{made:%Y年}" calls made.__format__ → strftime
            if "%" in spec and not spec.isascii():
                lines.append(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(not m.group().isascii() for m in _FORMAT_FIELD.finditer(node.value)):
                lines.append(node.lineno)
    return sorted(set(lines))


@pytest.mark.parametrize(("source", "found"), [
    ('text = f"作成日時：{made:%Y年%m月%d日 %H:%M}"', [1]),  # the line collect crashed on
    ('text = made.strftime("%Y年%m月")', [1]),
    ('text = "{:%Y年}".format(made)', [1]),
    ('text = format(made, "%m月")', [1]),
    ('text = f"作成日時：{made.year}年{made.month:02d}月"', []),
    ('text = made.strftime("%Y%m%d%H%M%S")', []),
    ('text = f"{made:%Y-%m-%d}年"', []),
])
def test_the_scan_finds_each_way_of_formatting_a_date_with_strftime(source, found):
    assert non_ascii_strftime(source) == found


def test_no_date_in_the_package_is_formatted_by_strftime_with_a_non_ascii_format():
    found = {str(path.relative_to(PACKAGE)): lines for path in sorted(PACKAGE.rglob("*.py"))
             if (lines := non_ascii_strftime(path.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_status_workbook_says_when_it_was_made(survey_env):
    env = survey_env
    env.put_valid()
    before = dt.datetime.now().replace(second=0, microsecond=0)
    result = CliRunner().invoke(cli, ["collect", str(env.folder)])
    after = dt.datetime.now()
    assert result.exit_code == 0, result.output
    ws = openpyxl.load_workbook(env.output / "回収状況.xlsx")["回収状況"]
    m = re.fullmatch(r"作成日時：令和(\d+|元)年(\d+)月(\d+)日 (\d+):(\d\d)", ws["A2"].value)
    assert m, ws["A2"].value
    era_year, *rest = m.groups()
    made = dt.datetime(2018 + (1 if era_year == "元" else int(era_year)), *map(int, rest))  # 令和元年 = 2019
    assert before <= made <= after


# --- file names valid on Windows, whatever a department is called ----------------------------
#
# Under Windows (and Wine, which keeps the same rules), "NUL.eml" is written into the null device
# and nothing is left on disk, "CON.xlsx" cannot be opened, a trailing dot or space is dropped
# and a name of more than 255 characters is refused. Each department here must still get its own
# form, correction copy and mail draft, found on disk and holding that department.

HOSTILE = ["CON", "aux", "NUL", "COM1", "LPT1.出張所", "CON .課", "総務課.", "課" * 255, "x" * 255]


def _rename_departments(folder: Path) -> dict[str, str]:
    """The example survey with its nine departments renamed to HOSTILE; old name -> new."""
    import csv

    listing = folder / "所管課一覧.csv"
    with listing.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    renamed = {row["所管課"]: new for row, new in zip(rows, HOSTILE, strict=True)}
    for name in ("所管課一覧.csv", "施策マスタ.csv"):
        path = folder / name
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields, table = reader.fieldnames, list(reader)
        for row in table:
            row["所管課"] = renamed[row["所管課"]]
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fields)
            writer.writeheader()
            writer.writerows(table)
    return renamed


def _department_of(form: Path) -> str:
    from xlsx_tool.forms.layout import ID_SHEET

    ws = openpyxl.load_workbook(form, read_only=True)[ID_SHEET]
    return next(row[1] for row in ws.iter_rows(values_only=True) if row[0] == "department")


def test_every_department_gets_its_own_files_whatever_it_is_called(tmp_path):
    import email.utils

    from xlsx_tool import demo

    folder = tmp_path / "調査"
    demo.copy_example(folder)
    _rename_departments(folder)
    runner = CliRunner()
    done = runner.invoke(cli, ["generate", str(folder)])
    assert done.exit_code == 0, done.output
    forms = sorted((folder / "1_配布").iterdir())
    assert sorted(_department_of(f) for f in forms) == sorted(HOSTILE)

    # every rating typed wrong: each department gets a correction copy
    answers = {m: {**a, "評価": "わからない"} for m, a in demo.example_answers(folder).items()}
    for form in forms:
        demo.fill_form(form, folder / "2_回収" / form.name, answers)
    done = runner.invoke(cli, ["collect", str(folder)])
    assert done.exit_code == 1, done.output
    copies = sorted((folder / "3_集計" / "修正依頼").iterdir())
    assert sorted(_department_of(c) for c in copies) == sorted(HOSTILE)

    done = runner.invoke(cli, ["mail", str(folder), "distribute"])
    assert done.exit_code == 0, done.output
    drafts = sorted((folder / "4_メール" / "配布").iterdir())
    to = {email.utils.parseaddr(email.message_from_bytes(d.read_bytes())["To"])[1] for d in drafts}
    assert len(drafts) == len(to) == len(HOSTILE)
    listing = (folder / "所管課一覧.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert {line.rsplit(",", 1)[1] for line in listing} == to


# --- console output under code page 932 ------------------------------------------------------
#
# Redirected to a pipe or a file, Windows CPython writes in the ANSI code page (932 on a Japanese
# PC), which has no 𠮷: a department of that name must not stop a command halfway. The Windows
# lane runs this under code page 932; elsewhere PYTHONIOENCODING asks for the same encoding.

@pytest.mark.e2e
@pytest.mark.parametrize("into", ["pipe", "file"])
def test_output_redirected_under_cp932_never_fails_on_a_name_outside_it(tmp_path, into):
    import locale
    import os
    import subprocess
    import sys

    from xlsx_tool import demo
    from xlsx_tool.define import master
    from xlsx_tool.forms.generate import generate

    if sys.platform == "win32" and os.environ.get("CI") == "true":
        assert locale.getencoding() == "cp932", "the Windows lane runs the suite under code page 932"
    folder = tmp_path / "調査"
    demo.copy_example(folder)
    renamed = _rename_departments(folder)
    name = "𠮷﨑出張所"
    for path in (folder / "所管課一覧.csv", folder / "施策マスタ.csv"):
        text = path.read_text(encoding="utf-8-sig")
        path.write_text(text.replace(renamed["ICT推進課"], name), encoding="utf-8-sig")
    loaded, _problems = master.load(folder)
    forms = generate(loaded).written
    answers = {m: {**a, "評価": "わからない"} for m, a in demo.example_answers(folder).items()}
    for form in forms:
        demo.fill_form(form, folder / "2_回収" / form.name, answers)
    env = dict(os.environ, PYTHONIOENCODING="cp932")
    for command, code in ((["collect", str(folder)], 1), (["summarize", str(folder)], 1)):
        out = tmp_path / "out.txt"
        with out.open("wb") as fh:
            done = subprocess.run([sys.executable, "-m", "xlsx_tool", *command], env=env, timeout=300,
                                  stdin=subprocess.DEVNULL, check=False, stderr=subprocess.PIPE,
                                  stdout=fh if into == "file" else subprocess.PIPE)
        stdout = out.read_bytes() if into == "file" else done.stdout
        assert done.returncode == code, done.stderr.decode("utf-8", "replace")
        assert b"Traceback" not in done.stderr and b"UnicodeEncodeError" not in done.stderr
        shown = stdout.decode("utf-8") + done.stderr.decode("utf-8")
        assert name in shown, shown


# --- an output open in Excel -------------------------------------------------------------------
#
# Excel keeps a workbook open with read sharing only, so Windows refuses to replace it (a sharing
# violation or access denied). Another Windows process holds 回収状況.xlsx open that way while
# collect writes it: the message names the file and says to close it, the old file stays whole,
# and once it is closed the same command succeeds.

HOLD = """
import ctypes, sys
from ctypes import wintypes
kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
kernel32.CreateFileW.restype = wintypes.HANDLE
kernel32.CreateFileW.argtypes = [wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, ctypes.c_void_p,
                                 wintypes.DWORD, wintypes.DWORD, wintypes.HANDLE]
GENERIC_READ, FILE_SHARE_READ, OPEN_EXISTING = 0x80000000, 1, 3
handle = kernel32.CreateFileW(sys.argv[1], GENERIC_READ, FILE_SHARE_READ, None, OPEN_EXISTING, 0, None)
print("held" if handle != wintypes.HANDLE(-1).value else f"error {ctypes.get_last_error()}", flush=True)
sys.stdin.readline()
"""


@windows_only
@pytest.mark.e2e
def test_a_status_workbook_open_in_excel_is_named_and_kept(survey_env, tmp_path):
    import subprocess
    import sys

    env = survey_env
    env.put_valid()
    runner = CliRunner()
    assert runner.invoke(cli, ["collect", str(env.folder)]).exit_code == 0
    status = env.output / "回収状況.xlsx"
    before = status.read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(status)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        done = runner.invoke(cli, ["collect", str(env.folder)])
    finally:
        holder.communicate("\n", timeout=60)
    assert done.exit_code == 2, done.output
    assert f"{status} に書き込めません。Excel で開いたままか" in done.output
    assert "閉じ" in done.output and "Traceback" not in done.output
    assert status.read_bytes() == before
    assert not [p for p in env.output.iterdir() if p.name.startswith(".~xlsx-tool-")]  # no temporary left
    assert runner.invoke(cli, ["collect", str(env.folder)]).exit_code == 0


# --- paths over 260 characters -------------------------------------------------------------
#
# Windows, unless long paths are enabled, refuses a full path of 260 characters or more and says
# the path does not exist: winerror 3 or 206, both FileNotFoundError in CPython (measured with
# CPython's own mapping under Wine). Wine itself takes long paths, so on Windows the error is made
# as Windows makes it; on Linux the kernel's own limit (4,096 bytes) gives a real ENAMETOOLONG.

@pytest.mark.parametrize("command", ["generate", "collect"])
def test_a_survey_folder_too_deep_for_its_ledger_is_one_sentence(tmp_path, command):
    """SQLite opens no database whose full path reaches 512 bytes (Windows: 260 characters) and
    says only "unable to open database file"; the length tells why."""
    import os

    from xlsx_tool import demo

    if os.name == "nt":
        pytest.skip("SQLite's limit on Linux (its unix VFS); Windows' own 260 characters are checked below")
    folder = tmp_path / ("深い階層のフォルダ" * 9) / ("深い階層のフォルダ" * 9) / "調査"
    assert len(str((folder / "回収台帳.sqlite3").absolute()).encode()) > 512
    demo.copy_example(folder)
    done = CliRunner().invoke(cli, [command, str(folder)])
    assert done.exit_code == 2, done.output
    length = len(str((folder / "回収台帳.sqlite3").absolute()))
    assert f"回収台帳.sqlite3 を使えません。パスが長すぎます（{length} 文字）。" in done.output
    assert "調査フォルダを浅い場所（例: C:\\調査）に移すか、Windows の長いパスの設定を有効にして" in done.output


def test_a_survey_folder_path_longer_than_the_system_takes_is_named_with_the_remedy(tmp_path, monkeypatch):
    """Linux refuses a path over 4,096 bytes (ENAMETOOLONG); Windows one of 260 characters, saying
    it does not exist (made here as Windows makes it: Wine takes long paths)."""
    import os

    folder = tmp_path.joinpath(*["長いフォルダ名" * 10] * 25)
    if os.name == "nt":
        real_stat = Path.stat

        def windows_stat(self, *args, **kwargs):
            if len(str(self.absolute())) >= 260:
                raise OSError(0, "The system cannot find the path specified", str(self), 3)
            return real_stat(self, *args, **kwargs)

        monkeypatch.setattr(Path, "stat", windows_stat)
    done = CliRunner().invoke(cli, ["collect", str(folder)])
    assert done.exit_code == 2
    assert f"フォルダ「{folder}」を開けません。パスが長すぎます（{len(str(folder.absolute()))} 文字）。" in done.output
    missing = CliRunner().invoke(cli, ["collect", str(tmp_path / "ない")])
    assert missing.exit_code == 2 and "がありません" in missing.output


@windows_only
@pytest.mark.parametrize("winerror", [3, 206])
def test_an_output_past_260_characters_names_the_file_and_the_remedy(tmp_path, monkeypatch, winerror):
    import os

    from xlsx_tool import demo

    folder = tmp_path / "調査"  # names of at most 255 bytes: Wine cuts a longer one to fit Linux
    while len(os.path.abspath(folder / "1_配布" / ("x" * 30))) < 260:  # every form (33+ characters) passes 260
        folder = folder.parent / "深いフォルダ" / folder.name
    assert len(os.path.abspath(folder / "回収台帳.sqlite3")) < 248  # the folder itself can be used
    demo.copy_example(folder)
    real_replace = os.replace

    def windows_replace(src, dst):  # as Windows without long paths (Wine has no such limit)
        if len(os.path.abspath(dst)) >= 260:
            raise OSError(0, "The system cannot find the path specified", str(src), winerror, str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", windows_replace)
    done = CliRunner().invoke(cli, ["generate", str(folder)])
    assert done.exit_code == 2, done.output
    assert "に書き込めません。パスが長すぎます（" in done.output and "文字）" in done.output
    assert "Windows の長いパスの設定を有効にして" in done.output


@windows_only
def test_a_returned_file_past_260_characters_is_named_with_the_remedy(tmp_path, monkeypatch):
    from xlsx_tool.intake.reader import read_workbook

    path = tmp_path / ("長" * 80) / ("長" * 80) / ("長" * 80) / "返送.xlsx"
    real_stat = Path.stat

    def windows_stat(self, *args, **kwargs):
        if len(str(self.absolute())) >= 260:
            raise OSError(0, "The filename or extension is too long", str(self), 206)
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", windows_stat)
    result = read_workbook(path)
    assert result.failure == "unreadable"
    assert result.detail.startswith(f"パスが長すぎます（{len(str(path.absolute()))} 文字）")
    short = read_workbook(tmp_path / "ない.xlsx")  # a file that is really missing stays that
    assert short.failure == "unreadable" and "見つかりません" in short.detail


@windows_only
def test_a_returned_form_deep_in_2_kaishu_is_listed_as_too_long_not_as_a_broken_link(survey_env, monkeypatch):
    import json
    import os

    env = survey_env
    deep = env.returns  # names of at most 255 bytes: Wine cuts a longer one to fit Linux
    while len(os.path.abspath(deep / env.base.form_names["人事課"])) < 260:
        deep = deep / ("各課から届いたもの" * 8)
    deep.mkdir(parents=True)
    form = deep / env.base.form_names["人事課"]
    form.write_bytes(env.base.filled["人事課"].read_bytes())
    assert len(str(form.absolute())) >= 260
    real_stat = os.stat

    def windows_stat(path, *args, **kwargs):  # as Windows without long paths (Wine has no such limit)
        if len(os.path.abspath(path)) >= 260:
            raise OSError(0, "The system cannot find the path specified", str(path), 3)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", windows_stat)
    done = CliRunner().invoke(cli, ["collect", "--json", str(env.folder)])
    assert done.exit_code == 1
    result = json.loads(done.output)
    assert [s["reason"] for s in result["skipped"]] == [
        "パス（フォルダ名とファイル名）が長すぎるため読み取れません（Windows では 260 文字まで）。"
        "2_回収 の中のフォルダ名やファイル名を短くするか、調査フォルダを浅い場所に移してください。"]
    assert {d["department"]: d["status"] for d in result["departments"]}["人事課"] == "missing"
