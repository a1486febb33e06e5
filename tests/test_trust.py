"""Which file and which row wins, tried through the command line as the section works (issue 22).

Each case is one the section met: a correction saved in Excel after a LibreOffice save, a file
without a save time, the newest file moved out of 2_回収, a department renamed on 1 April, an
attachment saved as ATT00001.bin, an unreadable file among good ones, a tool upgrade between
years, a changed rule, init into a folder the section had prepared. The answers are read back
from the ledger and the JSON, the files in 2_回収 never change.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import NEWER, STAMP, TARGET, Env, form_layout, rewrite_zip, snapshot
from tests.survey_helpers import make_survey, write_master
from xlsx_tool.cli import cli
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import load
from xlsx_tool.ledger import current_answers, open_ledger

runner = CliRunner()
RELEASE_010 = Path(__file__).parent / "fixtures" / "release-0.1.0"


def collect(folder: Path, *options: str) -> tuple[int, dict]:
    res = runner.invoke(cli, ["collect", str(folder), "--json", *options])
    assert "Traceback" not in res.output
    return res.exit_code, json.loads(res.stdout)


def answers(folder: Path) -> dict:
    loaded, _problems = load(folder)
    return current_answers(loaded).answers


def status(data: dict, department: str) -> dict:
    return next(d for d in data["departments"] if d["department"] == department)


def rating_edit(measure: str, value: str):
    def edit(wb, ws, columns, rows):
        ws[f"{columns['評価']}{rows[measure]}"] = value
    return edit


def first_measure(env: Env) -> str:
    return env.base.measures[TARGET][0]


# --- save times -------------------------------------------------------------------------------

@pytest.mark.libreoffice
def test_a_correction_saved_in_excel_after_a_libreoffice_save_wins(survey_env: Env, in_tokyo):
    """LibreOffice writes its save time as local time marked UTC: on a Japanese PC its saves
    looked nine hours newer, and the later Excel correction lost, the 差し替え backwards."""
    from tests.support.lo import libreoffice_or_skip, lo_fill

    libreoffice_or_skip()
    env = survey_env
    env.put_valid(exclude={TARGET})
    m = first_measure(env)
    columns, rows = form_layout(openpyxl.load_workbook(env.base.filled[TARGET]))
    libre = env.returns / "LibreOffice版.xlsx"
    lo_fill(env.base.filled[TARGET], libre, {"調査票": {f"{columns['評価']}{rows[m]}": "未達成"}})
    with zipfile.ZipFile(libre) as z:
        assert b"LibreOffice" in z.read("docProps/app.xml")
    # the same morning, ten minutes later, corrected in Excel (which writes UTC)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    excel = env.edited("Excel版.xlsx", rating_edit(m, "達成+"), modified=later)
    code, data = collect(env.folder)
    a = status(data, TARGET)
    assert a["file"] == env.rel(excel), data["problems"]
    (rep,) = data["replacements"]
    assert (rep["old_file"], rep["new_file"]) == (env.rel(libre), env.rel(excel))
    assert {(c["measure"], c["old"], c["new"]) for c in rep["changes"]} == {(m, "未達成", "達成+")}
    assert "LibreOffice の保存日時は現地時刻として補正" in rep["reason"]
    assert answers(env.folder)[m]["評価"] == "達成+"


def test_a_file_without_a_save_time_is_not_thrown_away_for_it(survey_env: Env):
    env = survey_env
    env.put_valid(exclude={TARGET})
    m = first_measure(env)
    env.edited("保存日時あり.xlsx", rating_edit(m, "未達成"), modified=STAMP)
    bare = env.edited("保存日時なし.xlsx", rating_edit(m, "達成+"), modified=None)
    rewrite_zip(bare, bare, {"docProps/core.xml": lambda core: core.replace(
        core[core.index(b"<dcterms:modified"):core.index(b"</dcterms:modified>") + 19], b"")})
    code, data = collect(env.folder)
    assert status(data, TARGET)["file"] == env.rel(bare)  # saved to 2_回収 after the dated one's save
    assert answers(env.folder)[m]["評価"] == "達成+"
    (rep,) = data["replacements"]
    assert rep["reason"].startswith("ファイルの日時")


def test_a_file_received_later_wins_over_an_older_save_and_says_so(survey_env: Env):
    env = survey_env
    env.put_valid(exclude={TARGET})
    m = first_measure(env)
    env.edited("最新.xlsx", rating_edit(m, "達成+"), modified=NEWER)
    assert collect(env.folder)[0] == 0
    # days later an old copy comes in again (found in a mailbox, saved before the one received)
    old = env.edited("再送.xlsx", rating_edit(m, "未達成"), modified=STAMP)
    code, data = collect(env.folder)
    assert status(data, TARGET)["file"] == env.rel(old)
    (w,) = [p for p in data["problems"] if p["code"] == "older-save-chosen"]
    assert "最新.xlsx" in w["message"] and "古いファイルが再送されていないか" in w["message"]
    assert data["replacements"][0]["reason"] == "後から受け付けたため"


# --- a newest file that leaves 2_回収 ---------------------------------------------------------------

def test_a_newest_file_that_leaves_the_folder_keeps_counting_until_the_section_lets_it_go(survey_env: Env):
    env = survey_env
    env.put_valid()
    m = first_measure(env)
    assert collect(env.folder)[0] == 0
    newer = env.edited("訂正版.xlsx", rating_edit(m, "未達成"), modified=NEWER)
    collect(env.folder)
    assert answers(env.folder)[m]["評価"] == "未達成"
    archive = env.folder.parent / "保管"
    archive.mkdir()
    shutil.move(newer, archive / newer.name)  # tidied away, or lost by a sync
    code, data = collect(env.folder)
    assert answers(env.folder)[m]["評価"] == "未達成"  # not quietly back to the older answers
    a = status(data, TARGET)
    assert (a["file"], a["present"], a["status"]) == ("2_回収/訂正版.xlsx", False, "submitted")
    (p,) = [p for p in data["problems"] if p["code"] == "newest-file-missing"]
    assert p["department"] == TARGET and "--forget-missing" in p["message"]
    plain = runner.invoke(cli, ["collect", str(env.folder)])
    assert "[警告] 2_回収/訂正版.xlsx" in plain.output and "2_回収 にありません" in plain.output
    # the section decides: let it go
    code, data = collect(env.folder, "--forget-missing")
    assert data["withdrawn"] == ["2_回収/訂正版.xlsx"]
    assert answers(env.folder)[m]["評価"] == env.base.answers[m]["評価"]
    assert status(data, TARGET)["present"] is True
    with open_ledger(env.folder / S.LEDGER_FILE) as db:
        assert any(h["path"] == "2_回収/訂正版.xlsx" and h["withdrawn"] for h in db.history())  # still on record


# --- a department renamed --------------------------------------------------------------------

def test_a_department_renamed_on_1_april_keeps_its_returned_forms(survey_env: Env):
    env = survey_env
    env.put_valid()
    rows = list(csv.reader((env.folder / "施策マスタ.csv").read_text(encoding="utf-8-sig").splitlines()))
    for row in rows[1:]:
        if row[3] == "総務課":
            row[3] = "総務部総務課"
    write_master(env.folder, rows[0], rows[1:])
    listing = (env.folder / "所管課一覧.csv").read_text(encoding="utf-8-sig").replace("総務課,", "総務部総務課,")
    (env.folder / "所管課一覧.csv").write_text(listing, encoding="utf-8-sig")
    code, data = collect(env.folder)
    renamed = status(data, "総務部総務課")
    assert renamed["status"] == "submitted" and renamed["file"].endswith("総務課.xlsx")
    (p,) = [p for p in data["problems"] if p["code"] == "department-renamed"]
    assert "「総務課」" in p["message"] and "「総務部総務課」の提出として読み取りました" in p["message"]
    assert not any(d["department"] == "総務課" for d in data["departments"])
    assert code == 0


# --- files are recognised by their content -----------------------------------------------------

def test_an_attachment_saved_without_its_name_is_read_for_what_it_is(survey_env: Env):
    env = survey_env
    env.put_valid(exclude={TARGET, "人事課"})
    shutil.copy2(env.base.filled[TARGET], env.returns / "ATT00001.bin")
    shutil.copy2(env.base.filled["人事課"], env.returns / "noname")
    docx = env.returns / "ATT00002.bin"  # a Word cover letter, also saved without its name
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", "<w:document/>")
    (env.returns / "メモ.txt").write_text("提出します", encoding="utf-8")
    before = snapshot(env.returns)
    code, data = collect(env.folder)
    assert status(data, TARGET)["file"] == "2_回収/ATT00001.bin"
    assert status(data, "人事課")["file"] == "2_回収/noname"
    skipped = {k["file"]: k["code"] for k in data["skipped"]}
    assert skipped == {"2_回収/ATT00002.bin": "other-document", "2_回収/メモ.txt": "not-spreadsheet"}
    assert code == 0 and data["problems"] == []
    assert snapshot(env.returns) == before


def test_a_file_that_cannot_be_read_is_never_all_clear(survey_env: Env):
    env = survey_env
    env.put_valid()
    (env.returns / "壊れた提出.xlsx").write_bytes(env.base.filled[TARGET].read_bytes()[:3000])
    code, data = collect(env.folder)
    assert all(d["status"] == "submitted" for d in data["departments"])
    assert code == 1
    assert [p["code"] for p in data["problems"] if p["department"] is None] == ["corrupt"]
    res = runner.invoke(cli, ["run", str(env.folder)])
    assert res.exit_code == 1 and "読み取れない・判別できないもの 1 件" in res.output


# --- a changed rule, and an upgrade ------------------------------------------------------------

def test_recheck_checks_files_again_whatever_the_ledger_holds(survey_env: Env):
    env = survey_env
    env.put_valid()
    m = first_measure(env)
    collect(env.folder)
    # a verdict on record that the checker would not give today (an earlier rule, say)
    with sqlite3.connect(env.folder / S.LEDGER_FILE) as conn:
        for sha, result in conn.execute("SELECT sha256, result FROM received").fetchall():
            data = json.loads(result)
            if m in data["answers"]:
                data["answers"][m]["評価"] = "未達成"
                conn.execute("UPDATE received SET result=? WHERE sha256=?", (json.dumps(data), sha))
    collect(env.folder)
    assert answers(env.folder)[m]["評価"] == "未達成"  # the stored check is reused
    collect(env.folder, "--recheck")
    assert answers(env.folder)[m]["評価"] == env.base.answers[m]["評価"]


def test_an_upgrade_keeps_every_years_answers_and_history(tmp_path: Path):
    """Two years collected and summarised by release 0.1.0; this release takes over."""
    for year in ("令和3年度", "令和4年度"):
        shutil.copytree(RELEASE_010 / year, tmp_path / year)
    y2 = tmp_path / "令和4年度"
    # summarize straight after the upgrade: nothing changed, nothing is stale
    res = runner.invoke(cli, ["summarize", str(y2), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [(h["label"], h["ratings"]) for h in data["history"]] == [
        ("令和3年度", {"達成+": 5, "達成": 19, "未達成": 1}), ("令和4年度", {"達成+": 6, "達成": 18, "未達成": 1})]
    # collecting again re-checks every file with this release's checker, and history stays whole
    code, collected = collect(y2)
    assert code == 0 and not collected["replacements"]
    with open_ledger(y2 / S.LEDGER_FILE) as db:
        assert {r.checker for rs in db.on_record().values() for r in rs} != {"0.1.0"}
    data = json.loads(runner.invoke(cli, ["summarize", str(y2), "--json"]).stdout)
    assert [h["label"] for h in data["history"]] == ["令和3年度", "令和4年度"]
    # the earlier year's ledger was only read
    with sqlite3.connect(tmp_path / "令和3年度" / S.LEDGER_FILE) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("2",)
    # and next year starts from it
    res = runner.invoke(cli, ["init", str(tmp_path / "令和5年度"), "--from", str(y2)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((tmp_path / "令和5年度" / "施策マスタ.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert {r["施策番号"]: r["前年度評価"] for r in rows}["3"] == "達成+"


# --- the plan's order ----------------------------------------------------------------------------

def test_groups_named_without_a_number_keep_the_plans_order(tmp_path: Path):
    rows = [[1, "施策1", "開かれた区政の実現", "課A", "", "", "", "A", "計画どおり推進"],
            [2, "施策2", "区民サービスの向上", "課A", "", "", "", "A", "計画どおり推進"],
            [3, "施策3", "計画に関する進捗管理", "課A", "", "", "", "B", "計画どおり推進"],
            [4, "施策4", "安全・安心の向上", "課A", "", "", "", "A", "計画どおり推進"]]
    folder = make_survey(tmp_path / "s", "2020", rows=rows)
    res = runner.invoke(cli, ["check", str(folder)])
    assert res.exit_code == 0, res.output
    loaded, _problems = load(folder)
    assert [g.id for g in loaded.survey.groups] == ["開かれた区政の実現", "区民サービスの向上", "計画に関する進捗管理",
                                                    "安全・安心の向上"]


# --- init where the section has prepared its files ------------------------------------------------

def test_init_into_a_folder_with_the_sections_own_files_keeps_them(tmp_path: Path):
    folder = tmp_path / "令和8年度"
    folder.mkdir()
    write_master(folder, ["施策番号", "施策名", "基本方針", "所管課"], [[1, "本物の施策", "Ⅰ", "情報政策課"]])
    (folder / "所管課一覧.csv").write_text("所管課,担当者,内線,メール\n情報政策課,山田,1234,jyosei@example.lg.jp\n",
                                      encoding="utf-8-sig")
    before = snapshot(folder)
    res = runner.invoke(cli, ["init", str(folder), "--template", "2025", "--year", "2026"])
    assert res.exit_code == 0, res.output
    assert "施策マスタ.csv（用意されていたものをそのまま使います。上書きしていません）" in res.output
    assert {k: v for k, v in snapshot(folder).items() if k in before} == before
    assert not (folder / "施策マスタ.xlsx").exists()
    text = (folder / "survey.toml").read_text(encoding="utf-8")
    assert 'master = "施策マスタ.csv"' in text and 'departments = "所管課一覧.csv"' in text


def test_init_from_last_year_into_a_prepared_folder_fills_a_copy_of_its_master(tmp_path: Path):
    y2 = shutil.copytree(RELEASE_010 / "令和4年度", tmp_path / "令和4年度")
    shutil.copytree(RELEASE_010 / "令和3年度", tmp_path / "令和3年度")
    nxt = tmp_path / "令和5年度"
    nxt.mkdir()
    # next year's plan, prepared by the section: measure 3 renumbered to 30, a new measure 99
    rows = list(csv.reader((y2 / "施策マスタ.csv").read_text(encoding="utf-8-sig").splitlines()))
    header = rows[0] + ["前年度施策番号"]
    body = [r + [""] for r in rows[1:]]
    for r in body:
        if r[0] == "3":
            r[0], r[-1] = "30", "3"
    body.append(["99", "生成AIの活用", "Ⅰ", "ICT推進課"] + [""] * (len(header) - 4))
    write_master(nxt, header, body)
    before = snapshot(nxt)
    res = runner.invoke(cli, ["init", str(nxt), "--from", str(y2)])
    assert res.exit_code == 0, res.output
    assert snapshot(nxt)["施策マスタ.csv"] == before["施策マスタ.csv"]  # the section's file, untouched
    assert "用意されていた 施策マスタ.csv はそのまま残しました" in res.output
    carried = nxt / "施策マスタ（前年度評価入り）.csv"
    got = {r["施策番号"]: r for r in csv.DictReader(carried.read_text(encoding="utf-8-sig").splitlines())}
    assert got["30"]["前年度評価"] == "達成+" and got["1"]["前年度評価"] == "達成+" and got["99"]["前年度評価"] == ""
    assert "施策番号 99" in res.output
    assert 'master = "施策マスタ（前年度評価入り）.csv"' in (nxt / "survey.toml").read_text(encoding="utf-8")


def test_an_earlier_year_that_cannot_be_counted_is_said_why_and_the_summary_goes_on(tmp_path: Path):
    for year in ("令和3年度", "令和4年度"):
        shutil.copytree(RELEASE_010 / year, tmp_path / year)
    y1, y2 = tmp_path / "令和3年度", tmp_path / "令和4年度"
    master = y1 / "施策マスタ.csv"
    master.write_text(master.read_text(encoding="utf-8-sig").replace("Web会議の推進", "Web会議の活用"),
                      encoding="utf-8-sig")  # last year's master edited after its collect
    res = runner.invoke(cli, ["summarize", str(y2), "--json"])
    assert res.exit_code == 0
    assert [h["label"] for h in json.loads(res.stdout)["history"]] == ["令和4年度"]
    assert "令和3年度の施策マスタまたは調査定義が、その年度の回収の後に変更されています" in res.stderr
    with sqlite3.connect(y1 / S.LEDGER_FILE) as conn:  # a ledger a newer release wrote
        conn.execute("UPDATE meta SET value='99' WHERE key='schema'")
    res = runner.invoke(cli, ["summarize", str(y2)])
    assert res.exit_code == 0 and "令和3年度の台帳を読めません" in res.stderr and "より新しい版" in res.stderr


def test_a_cell_that_shows_another_answer_than_it_holds_is_refused(survey_env: Env):
    # 「達成」 in the cell, shown as 「未達成」 through its format: which one did the department mean?
    env = survey_env
    env.put_valid(exclude={TARGET})
    m = first_measure(env)

    def edit(wb, ws, columns, rows):
        cell = ws[f"{columns['評価']}{rows[m]}"]
        cell.value = "達成"
        cell.number_format = '"未"@'

    env.edited("書式.xlsx", edit)
    code, data = collect(env.folder)
    (p,) = [p for p in data["problems"] if p["code"] == "shown-differs"]
    assert p["measure"] == m and "「未達成」と表示されていますが、値は「達成」" in p["message"]
    assert status(data, TARGET)["status"] == "needs_fix" and code == 1
    assert m not in answers(env.folder)


def test_a_hidden_input_sheet_behind_a_look_alike_is_not_read(survey_env: Env):
    env = survey_env
    env.put_valid(exclude={TARGET})

    def edit(wb, ws, columns, rows):
        copy = wb.copy_worksheet(ws)  # what the clerk sees and types into
        copy.title = "調査票（作業用）"
        ws.sheet_state = "hidden"

    env.edited("隠し.xlsx", edit)
    code, data = collect(env.folder)
    (p,) = [p for p in data["problems"] if p["code"] == "input-sheet-hidden"]
    assert p["sheet"] == "調査票" and "非表示" in p["message"]
    assert status(data, TARGET)["status"] == "needs_fix" and code == 1
