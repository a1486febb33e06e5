"""No file, name or setting can stop a run or mislead its user (issue 8), through the CLI."""

from __future__ import annotations

import errno
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TARGET, Env, rewrite_zip

from tests.support.ooxml import Package, Sheet, row, s
from tests.survey_helpers import copy_example, make_survey
from xlsx_tool import ledger
from xlsx_tool.cli import cli
from xlsx_tool.define import survey as S
from xlsx_tool.errors import OutputError
from xlsx_tool.xlsxout import atomic_write, write_failure

runner = CliRunner()
ENGLISH = re.compile(r"Traceback|Error\b|Exception\b|\b(?:is not|not a|No such|list index|out of range)\b")


def run_cli(*args: str):
    return runner.invoke(cli, list(args))


def assert_japanese_only(text: str) -> None:
    assert not ENGLISH.search(text), text
    assert all(len(line) < 1000 for line in text.splitlines()), max(text.splitlines(), key=len)[:200]


# --- entries in 2_回収 that are not plain files ------------------------------------------------

@pytest.mark.skipif(os.name != "posix", reason="symbolic links, FIFOs and byte file names are POSIX")
def test_links_loops_fifos_deep_folders_and_byte_names_are_all_accounted_for(survey_env: Env):
    env = survey_env
    env.put_valid(exclude={TARGET})
    returns = env.returns
    os.symlink(env.base.filled[TARGET], returns / "リンク.xlsx")  # followed: a real return
    os.symlink(returns / "消えたファイル.xlsx", returns / "切れたリンク.xlsx")
    os.symlink(returns, returns / "ループ")
    os.mkfifo(returns / "パイプ.xlsx")
    deep = returns
    for i in range(40):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "奥.xlsx").write_bytes(b"x")
    # a Shift_JIS name unzipped on Linux: bytes that are not UTF-8
    raw_name = "総務課_提出.xlsx".encode("cp932")
    with open(os.path.join(os.fsencode(returns), raw_name), "wb") as fh:
        fh.write(env.base.filled["総務課"].read_bytes())
    res = run_cli("collect", str(env.folder), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    skipped = {(k["file"], k["code"]) for k in data["skipped"]}
    assert ("2_回収/切れたリンク.xlsx", "broken-link") in skipped
    assert ("2_回収/ループ", "link-loop") in skipped
    assert ("2_回収/パイプ.xlsx", "special-file") in skipped
    assert any(code == "too-deep" for _f, code in skipped)
    statuses = {d["department"]: d for d in data["departments"]}
    assert statuses[TARGET]["file"] == "2_回収/リンク.xlsx"
    shown = [d["file"] for d in data["departments"] if d["department"] == "総務課"]
    assert shown == ["2_回収/総務課_提出.xlsx"]  # the Shift_JIS name shown as the clerk wrote it
    with ledger.open_ledger(env.folder / S.LEDGER_FILE) as book:
        stored = {bytes(r[0]) for r in book.conn.execute("SELECT path_bytes FROM received")}
    assert any(b.endswith(raw_name) for b in stored)  # the name is kept exactly


def test_a_thousand_nested_folders_do_not_overflow(survey_env: Env):
    env = survey_env
    deep = env.returns
    for _ in range(1100):  # one level at a time: os.makedirs itself recurses
        deep = deep / "a"
        deep.mkdir()
    try:
        res = run_cli("collect", str(env.folder), "--json")
        assert res.exit_code == 1  # everyone is missing, but the run completes
        assert any(k["code"] == "too-deep" for k in json.loads(res.stdout)["skipped"])
    finally:  # shutil.rmtree (and pytest's cleanup) recurse too: remove bottom-up
        while deep != env.returns:
            deep.rmdir()
            deep = deep.parent


# --- cell values that must not stop a run -----------------------------------------------------

def _sheet_patch(cell_xml: str, ref: str):
    """Replace one cell of the input sheet (sheet2.xml) in a returned form."""
    def patch(xml: bytes) -> bytes:
        text = xml.decode()
        new, count = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', cell_xml, text, count=1)
        assert count == 1, ref
        return new.encode()
    return patch


@pytest.mark.parametrize(("cell", "code"), [
    pytest.param('<c r="E6" t="inlineStr"><is><t>' + "達成" * 16350 + "</t></is></c>", "unknown-choice",
                 id="32700-characters-in-a-rating"),
    pytest.param('<c r="F6"><v>NaN</v></c>', "not-a-number", id="NaN-number"),
    pytest.param('<c r="F6"><v>1e999</v></c>', "not-a-number", id="infinite-number"),
])
def test_one_cell_never_stops_collect(survey_env: Env, cell, code):
    env = survey_env
    env.put_valid(exclude={TARGET})
    ref = re.search(r'r="(\w+)"', cell).group(1)
    rewrite_zip(env.base.filled[TARGET], env.returns / "bad.xlsx",
                {"xl/worksheets/sheet2.xml": _sheet_patch(cell, ref)})
    res = run_cli("collect", str(env.folder), "--json")
    assert res.exit_code == 1, res.output
    data = json.loads(res.stdout)
    assert code in {p["code"] for p in data["problems"]}
    assert (env.output / "回収状況.xlsx").is_file()
    copies = list((env.output / "修正依頼").glob("*.xlsx"))
    assert len(copies) == 1  # the correction copy was written despite the value
    plain = run_cli("collect", str(env.folder))
    assert_japanese_only(plain.output)


def test_nan_in_an_ended_row_is_a_problem_and_summarize_still_works(tmp_path):
    from tests.survey_helpers import forms_of
    from xlsx_tool.define.master import load
    from xlsx_tool.demo import fill_form

    folder = make_survey(tmp_path / "s", "2020")
    loaded, _ = load(folder)
    answers = {"1": {"評価": "A", "方向性": "計画どおり推進", "取組実績": "実施"},
               "2": {"評価": "B", "方向性": "事業拡大", "取組実績": "実施"},
               "4": {"評価": "C", "方向性": "計画修正", "取組実績": "実施"}}
    for form in forms_of(loaded):
        fill_form(form, folder / S.RETURNS_DIR / form.name, answers)
    target = next((folder / S.RETURNS_DIR).glob("*情報政策課*"))
    import openpyxl
    from conftest import form_layout

    columns, rows = form_layout(openpyxl.load_workbook(target))
    ref = f"{columns['実績値']}{rows['3']}"  # measure 3 has ended (前年度方向性 完了)
    rewrite_zip(target, target, {"xl/worksheets/sheet2.xml": _put_cell(f'<c r="{ref}"><v>NaN</v></c>', ref)})
    res = run_cli("run", str(folder), "--allow-missing")
    assert res.exit_code == 1 and "数値ではありません" in res.output, res.output
    assert (folder / S.OUTPUT_DIR / "集計結果.xlsx").is_file()
    again = run_cli("summarize", str(folder), "--allow-missing")
    assert again.exit_code == 0, again.output


def _put_cell(cell_xml: str, ref: str):
    """Put a raw cell into its row of the input sheet (replacing one that is there)."""
    number = re.sub(r"^[A-Z]+", "", ref)

    def patch(xml: bytes) -> bytes:
        text = re.sub(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', "", xml.decode(), count=1)
        text, count = re.subn(rf'(<row r="{number}"[^>]*>.*?)(</row>)', rf"\1{cell_xml}\2", text, count=1, flags=re.S)
        assert count == 1, ref
        return text.encode()
    return patch


# --- the master is as untrusted as a return ---------------------------------------------------

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def with_master(tmp_path: Path, name: str, data: bytes) -> Path:
    folder = copy_example(tmp_path / "s")
    text = (folder / "survey.toml").read_text(encoding="utf-8")
    (folder / "survey.toml").write_text(text.replace('master = "施策マスタ.csv"', f'master = "{name}"'),
                                        encoding="utf-8")
    (folder / name).write_bytes(data)
    return folder


HEADER = ["施策番号", "施策名", "基本方針", "所管課"]


def master_package(strict: bool = False, header: list[str] = HEADER) -> bytes:
    shared = [f"<t>{h}</t>" for h in header] + ["<t>Web会議の推進</t>", "<t>Ⅰ</t>", "<t>ICT推進課</t>"]
    n = len(header)
    rows = (row(1, *[s(f"{chr(65 + i)}1", i) for i in range(min(n, 4))])
            + row(2, '<c r="A2"><v>1</v></c>', s("B2", n), s("C2", n + 1), s("D2", n + 2)))
    return Package([Sheet("施策", rows)], shared, strict=strict).build()


@pytest.mark.parametrize(("name", "data", "words"), [
    pytest.param("施策マスタ.xlsx", OLE + bytes(504) + "EncryptionInfo".encode("utf-16-le") + bytes(600),
                 "パスワード", id="encrypted"),
    pytest.param("施策マスタ.xlsx", OLE + bytes(504) + "Workbook".encode("utf-16-le") + bytes(600), ".xls",
                 id="legacy-xls"),
    pytest.param("施策マスタ.xlsx", b"PK\x03\x04garbage" * 10, "壊れて", id="not-really-a-zip"),
    pytest.param("施策マスタ.xlsx", b"\x00\x01\x02" * 100, "形式が分からない", id="random-bytes"),
    pytest.param("施策マスタ.csv", b"\x89PNG\r\n\x1a\n\x00\x00binary", "CSV）ではありません", id="binary-as-csv"),
    pytest.param("施策マスタ.xlsx", master_package(header=["施策番号" + "長" * 2_000_000, "施策名", "基本方針", "所管課"]),
                 "必須の列「施策番号」", id="two-million-character-header"),
])
def test_a_bad_master_gets_one_japanese_sentence(tmp_path, name, data, words):
    folder = with_master(tmp_path, name, data)
    res = run_cli("check", str(folder))
    assert res.exit_code == 1
    assert words in res.output, res.output
    assert_japanese_only(res.output)
    gen = run_cli("generate", str(folder))
    assert gen.exit_code == 2 and not list((folder / S.FORMS_DIR).glob("*.xlsx"))


def test_a_strict_ooxml_master_is_read(tmp_path):
    folder = with_master(tmp_path, "施策マスタ.xlsx", master_package(strict=True))
    (folder / "所管課一覧.csv").unlink()
    text = (folder / "survey.toml").read_text(encoding="utf-8")
    (folder / "survey.toml").write_text(text.replace('departments = "所管課一覧.csv"\n', ""), encoding="utf-8")
    res = run_cli("check", str(folder))
    assert res.exit_code == 0, res.output
    assert "施策 1 件、所管課 1 課" in res.output


# --- survey.toml against its schema -------------------------------------------------------------

@pytest.mark.parametrize(("edit", "message"), [
    pytest.param(lambda t: t.replace("required = true", "requird = true", 1),
                 "項目「fields[1].requird」は使えません。「required」の誤りではありませんか。", id="misspelt-key"),
    pytest.param(lambda t: t.replace("required = true", 'required = "no"', 1),
                 "「fields[1].required」の値「no」は使えません。true または false", id="string-for-bool"),
    pytest.param(lambda t: t.replace('{ value = "達成+",', '{ ranked = "false", value = "達成+",'),
                 "ranked」の値「false」は使えません", id="string-for-ranked"),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = ""'), "「fields[2].name」の値「」は使えません",
                 id="empty-field-name"),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = "実績値"\nminimum = 10\nmaximum = 1'),
                 "minimum（10）が maximum（1）より大きく", id="min-over-max"),
    pytest.param(lambda t: t.replace('name = "実績値"', 'name = "実績値"\nwidth = "広い"'),
                 "「fields[2].width」の値「広い」は使えません", id="width-as-text"),
    pytest.param(lambda t: t.replace('input_sheet = "調査票"', 'input_sheet = "_id"'),
                 "「form.input_sheet」の値「_id」は使えません", id="reserved-sheet"),
    pytest.param(lambda t: t.replace('status = "回収状況.xlsx"', 'status = "../施策マスタ.xlsx"'),
                 "調査フォルダ内のファイル名として使えません", id="output-outside-folder"),
    pytest.param(lambda t: t.replace('summary = "集計結果.xlsx"', 'summary = "施策マスタ.csv"'),
                 "拡張子を .xlsx", id="output-over-the-master"),
    pytest.param(lambda t: t.replace('summary = "集計結果.xlsx"', 'summary = "回収状況.xlsx"'),
                 "ファイル名「回収状況.xlsx」が別の用途", id="two-outputs-one-name"),
    pytest.param(lambda t: t + '\n[mail.remind]\nsubject = "{所属}へのお願い"\nbody = "本文"\n',
                 "差し込み項目 {所属} は使えません", id="unknown-mail-placeholder"),
])
def test_definition_mistakes_are_named(tmp_path, edit, message):
    folder = make_survey(tmp_path / "s", "2025", toml_edit=edit)
    res = run_cli("check", str(folder))
    assert res.exit_code == 1, res.output
    assert message in res.output, res.output
    assert_japanese_only(res.output)


# --- write failures name the file and the remedy ------------------------------------------------

def test_output_folder_is_a_file(survey_env: Env):
    env = survey_env
    env.put_valid()
    for p in env.output.iterdir():
        p.unlink()
    env.output.rmdir()
    env.output.write_text("誤って作ったファイル", encoding="utf-8")
    res = run_cli("collect", str(env.folder))
    assert res.exit_code == 2
    assert "同じ名前のファイルがあるため" in res.output and "3_集計" in res.output
    assert_japanese_only(res.output)


def test_output_blocked_by_a_folder_of_its_name(survey_env: Env):
    env = survey_env
    env.put_valid()
    (env.output / "回収状況.xlsx").mkdir(parents=True)
    res = run_cli("collect", str(env.folder))
    assert res.exit_code == 2 and "回収状況.xlsx に書き込めません" in res.output
    assert_japanese_only(res.output)


def test_ledger_locked_by_another_program(survey_env: Env, monkeypatch):
    env = survey_env
    env.put_valid()
    monkeypatch.setattr(ledger, "LOCK_WAIT", 0.2)
    holder = sqlite3.connect(env.folder / S.LEDGER_FILE)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        res = run_cli("collect", str(env.folder))
    finally:
        holder.rollback()
        holder.close()
    assert res.exit_code == 2 and "回収台帳" in res.output and "使用中" in res.output
    assert_japanese_only(res.output)


@pytest.mark.parametrize(("err", "words"), [
    (OSError(errno.ENOSPC, "No space left on device"), "空き容量"),
    (PermissionError(errno.EACCES, "Permission denied"), "Excel で開いたまま"),
    (OSError(errno.EROFS, "Read-only file system"), "読み取り専用"),
])
def test_write_failures_say_what_to_do(tmp_path, err, words):
    message = str(write_failure(tmp_path / "集計結果.xlsx", err))
    assert words in message and "集計結果.xlsx" in message
    assert_japanese_only(message)


def test_disk_full_during_an_atomic_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "回収状況.xlsx"
    target.write_bytes(b"old")

    def full(fd, *a):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="空き容量"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["回収状況.xlsx"]  # no temporary left behind


@pytest.mark.skipif(os.name != "posix", reason="umask is POSIX")
@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_outputs_follow_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        atomic_write(tmp_path / "x.xlsx", b"data")
    finally:
        os.umask(old)
    assert (tmp_path / "x.xlsx").stat().st_mode & 0o777 == mode


@pytest.mark.e2e
def test_debug_keeps_the_exit_code_and_shows_the_traceback(tmp_path):
    folder = tmp_path / "空"
    folder.mkdir()
    cmd = [sys.executable, "-c", "from xlsx_tool.cli import main; main()"]
    plain = subprocess.run([*cmd, "check", str(folder)], capture_output=True, text=True, encoding="utf-8")
    debug = subprocess.run([*cmd, "--debug", "check", str(folder)], capture_output=True, text=True, encoding="utf-8")
    assert plain.returncode == debug.returncode == 2
    assert "survey.toml がありません" in plain.stderr and "Traceback" not in plain.stderr
    assert "Traceback" in debug.stderr


@pytest.mark.e2e
def test_library_warnings_never_reach_the_user(survey_env: Env):
    """openpyxl warns about unknown extensions on read; nothing the user runs may show them."""
    env = survey_env
    env.put_valid()
    cmd = [sys.executable, "-W", "default", "-c", "from xlsx_tool.cli import main; main()", "collect", str(env.folder)]
    res = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8")
    assert res.returncode == 0, res.stderr
    assert "Warning" not in res.stderr and "warn" not in res.stderr
