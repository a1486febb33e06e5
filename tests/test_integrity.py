"""Every answer lands in the right place, or the file is refused with a reason (issue 7).

Each case edits returned forms the way departments and the section really work (openpyxl
here; tests/test_integrity_lo.py does the same edits in LibreOffice), runs the CLI, and
checks both the reported problem and that no answer landed in a wrong field or department.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import NEWER, TARGET, Env, set_modified

from tests.survey_helpers import write_master
from xlsx_tool.cli import cli
from xlsx_tool.define import survey as S
from xlsx_tool.demo import example_answers, fill_form

runner = CliRunner()


def collect_json(env: Env) -> tuple[int, dict]:
    res = runner.invoke(cli, ["collect", str(env.folder), "--json"], catch_exceptions=False)
    return res.exit_code, json.loads(res.stdout)


def codes_of(data: dict, file: str) -> set[str]:
    return {p["code"] for p in data["problems"] if p["file"] == file}


def status_of(data: dict, department: str) -> dict:
    return next(d for d in data["departments"] if d["department"] == department)


def answers_on_record(env: Env) -> dict:
    from xlsx_tool.define.master import load
    from xlsx_tool.ledger import open_ledger

    loaded, _problems = load(env.folder)  # the master as it is now
    with open_ledger(env.folder / S.LEDGER_FILE) as ledger:
        return ledger.current_answers(loaded).answers


def expected(env: Env, department: str = TARGET) -> dict[str, dict[str, object]]:
    from xlsx_tool.demo import typed

    fields = {f.name: f for f in env.loaded.survey.fields}
    out = {}
    for number in env.base.measures[department]:
        out[number] = {name: (typed(text) if fields[name].type == "number" else text)
                       for name, text in env.base.answers[number].items() if name in fields and text}
    return out


# --- 1. columns are found by their header -------------------------------------------------

def insert_note_column(wb, ws, columns, rows):
    """Unprotect (no password by default) and insert a 備考 column before 実績値."""
    ws.protection.sheet = False
    at = openpyxl.utils.column_index_from_string(columns["実績値"])
    ws.insert_cols(at)
    ws.cell(5, at, "備考")
    for row in rows.values():
        ws.cell(row, at, "担当者メモ")


def test_inserted_column_is_read_by_header(survey_env: Env):
    env = survey_env
    env.put_valid(exclude={TARGET})
    path = env.edited("列を追加.xlsx", insert_note_column)
    code, data = collect_json(env)
    rel = env.rel(path)
    assert codes_of(data, rel) == {"columns-moved", "column-added"}
    assert status_of(data, TARGET)["status"] == "submitted" and code == 0
    added = next(p for p in data["problems"] if p["code"] == "column-added")
    assert "備考" in added["message"] and added["cell"] == "F5"
    got = answers_on_record(env)
    for number, want in expected(env).items():
        assert got[number] == want, number  # 実績値 is the number, 取組実績 the text


def _two_rating_columns(wb, ws, columns, rows):
    ws.protection.sheet = False
    ws.insert_cols(2)
    ws.cell(5, 2, "評価")
    for row in rows.values():
        ws.cell(row, 2, "達成+")


def _header_rewritten(wb, ws, columns, rows):
    ws.protection.sheet = False
    ws[f"{columns['実績値']}5"] = "実績"


def _column_deleted(wb, ws, columns, rows):
    ws.protection.sheet = False
    ws.delete_cols(openpyxl.utils.column_index_from_string(columns["課題・今後の取組"]))


@pytest.mark.parametrize(("edit", "detail"), [
    pytest.param(_two_rating_columns, "見出し「評価（必須）」が 2 つの列（B・F 列）", id="two-columns-claim-one-field"),
    pytest.param(_header_rewritten, "見出し「実績値」の列が見つかりません", id="header-rewritten"),
    pytest.param(_column_deleted, "見出し「課題・今後の取組」の列が見つかりません", id="column-deleted"),
])
def test_ambiguous_or_missing_columns_refuse_the_file(survey_env: Env, edit, detail):
    env = survey_env
    env.put_valid(exclude={TARGET})
    path = env.edited("列の変更.xlsx", edit)
    code, data = collect_json(env)
    problem = next(p for p in data["problems"] if p["file"] == env.rel(path))
    assert problem["code"] == "layout-changed" and detail in problem["message"], problem["message"]
    assert status_of(data, TARGET)["status"] == "needs_fix" and code == 1
    assert not (set(env.base.measures[TARGET]) & set(answers_on_record(env)))  # nothing read


# --- 2. a file answers only for its own department -----------------------------------------

def test_row_for_another_departments_measure_never_touches_the_owner(survey_env: Env):
    env = survey_env
    env.put_valid(exclude={TARGET})
    owner = "人事課"
    theirs = env.base.measures[owner][0]

    def add_row(wb, ws, columns, rows):
        ws.protection.sheet = False
        last = max(rows.values()) + 1
        ws.cell(last, 1, theirs)
        ws[f"{columns['評価']}{last}"] = "未達成"
        ws[f"{columns['取組実績']}{last}"] = "他課の施策を書いた"
    path = env.edited("他課の行.xlsx", add_row)
    code, data = collect_json(env)
    problem = next(p for p in data["problems"] if p["code"] == "measure-other-department")
    assert problem["file"] == env.rel(path) and problem["department"] == TARGET
    assert status_of(data, owner)["status"] == "submitted"
    assert status_of(data, TARGET)["status"] == "needs_fix"
    assert answers_on_record(env)[theirs] == expected(env, owner)[theirs]  # the owner's answer
    summary = runner.invoke(cli, ["summarize", str(env.folder), "--json"], catch_exceptions=False)
    assert summary.exit_code == 0, summary.output
    assert json.loads(summary.stdout)["missing"] == []  # the owner is not listed as missing


# --- 3. replacements in plain sight ---------------------------------------------------------

def test_copy_of_another_departments_file_is_a_listed_replacement(survey_env: Env):
    env = survey_env
    env.put_valid()
    victim = "人事課"
    first = env.base.measures[victim][0]

    def overwrite(wb, ws, columns, rows):
        ws[f"{columns['評価']}{rows[first]}"] = "未達成"
        ws[f"{columns['取組実績']}{rows[first]}"] = "総務課が書いた内容"
    copy = env.edited("総務課の提出.xlsx", overwrite, department=victim, modified=NEWER)
    res = runner.invoke(cli, ["collect", str(env.folder)], catch_exceptions=False)
    assert "差し替え 1 課" in res.output
    assert f"[差し替え] {victim}:" in res.output and "総務課の提出.xlsx" in res.output
    assert f"施策番号 {first} 評価: 達成 → 未達成" in res.output
    code, data = collect_json(env)
    (rep,) = data["replacements"]
    assert rep["department"] == victim and rep["new_file"] == env.rel(copy)
    assert {(c["measure"], c["field"], c["old"], c["new"]) for c in rep["changes"]} == {
        (first, "評価", "達成", "未達成"),
        (first, "取組実績", env.base.answers[first]["取組実績"], "総務課が書いた内容")}
    book = openpyxl.load_workbook(env.output / "回収状況.xlsx")
    rows = [[c.value for c in r] for r in book["差し替え"].iter_rows(min_row=5)]
    assert [victim, first, "評価", "達成", "未達成"] == rows[0][:5]
    assert "総務課の提出.xlsx" in rows[0][6]
    # nothing is lost: the first file is still on record
    assert status_of(data, victim)["replaced"] is True


# --- 4. answers belong to their master -------------------------------------------------------

def swap_numbers(env: Env, a: str, b: str) -> None:
    import csv

    path = env.folder / "施策マスタ.csv"
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    for row in rows[1:]:
        if row[0] == a:
            row[0] = b
        elif row[0] == b:
            row[0] = a
    write_master(env.folder, rows[0], rows[1:])


def test_summarize_refuses_answers_checked_against_another_master(survey_env: Env):
    env = survey_env
    env.put_valid()
    assert runner.invoke(cli, ["collect", str(env.folder)]).exit_code == 0
    swap_numbers(env, "1", "2")  # ICT推進課's No.1 and 人事課's No.2 trade numbers
    res = runner.invoke(cli, ["summarize", str(env.folder)])
    assert res.exit_code == 2
    assert "施策マスタが変更されています" in res.output and "collect" in res.output
    assert not (env.output / "集計結果.xlsx").exists()
    # collect again: each answer follows its measure to the measure's new number, said out loud;
    # none is paired with a number it was not given for
    code, data = collect_json(env)
    got = answers_on_record(env)
    answers = expected(env, TARGET)["1"], expected(env, "人事課")["2"]
    assert got["2"] == answers[0] and got["1"] == answers[1]
    renumbered = {(p["department"], p["measure"]): p for p in data["problems"] if p["code"] == "measure-renumbered"}
    assert set(renumbered) == {(TARGET, "2"), ("人事課", "1")}
    assert "施策番号が「1」から「2」に変わりました" in renumbered[TARGET, "2"]["message"]
    assert not any(p["code"] in ("measure-other-department", "measure-missing", "measure-added")
                   for p in data["problems"])
    assert code == 0 and all(d["status"] == "submitted" for d in data["departments"])
    res = runner.invoke(cli, ["summarize", str(env.folder), "--json"])
    assert res.exit_code == 0, res.output


def test_numbers_swapped_within_a_department_keep_each_answer_with_its_measure(survey_env: Env):
    # ICT推進課 has measures 1 and 5 (on its form); the master swaps their numbers mid-survey
    env = survey_env
    env.put_valid()
    mine = env.base.measures[TARGET]
    a, b = mine[0], mine[1]
    before = expected(env, TARGET)
    swap_numbers(env, a, b)
    code, data = collect_json(env)
    got = answers_on_record(env)
    assert got[b] == before[a] and got[a] == before[b]
    assert {p["measure"] for p in data["problems"] if p["code"] == "measure-renumbered"} == {a, b}
    assert code == 0


def test_a_number_cell_edited_on_a_current_form_refuses_that_row(survey_env: Env):
    # a clerk unprotects the sheet and types another of the form's numbers over a row's number
    env = survey_env
    env.put_valid(exclude={TARGET})
    mine = env.base.measures[TARGET]

    def edit(wb, ws, columns, rows):
        ws[f"{columns['施策番号']}{rows[mine[0]]}"] = int(mine[1])

    env.edited("改ざん.xlsx", edit)
    code, data = collect_json(env)
    (p,) = [p for p in data["problems"] if p["code"] == "row-number-changed"]
    assert p["measure"] == mine[0] and p["severity"] == "error" and f"施策番号が「{mine[1]}」に書き換えられて" in p["message"]
    assert status_of(data, TARGET)["status"] == "needs_fix" and code == 1
    got = answers_on_record(env)
    assert mine[0] not in got  # its answers sit under another number: not taken for either
    assert got[mine[1]] == expected(env)[mine[1]]  # the measure whose number was typed keeps its own row


def test_a_renamed_measure_is_read_with_both_names_said_the_right_way_round(survey_env: Env):
    import csv

    env = survey_env
    env.put_valid()
    path = env.folder / "施策マスタ.csv"
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    old_name = rows[1][1]
    rows[1][1] = "Web会議・オンライン会議の推進"
    write_master(env.folder, rows[0], rows[1:])
    code, data = collect_json(env)
    (p,) = [p for p in data["problems"] if p["code"] == "measure-renamed-after-form"]
    assert f"「{old_name}」から「Web会議・オンライン会議の推進」に変わっています" in p["message"]
    assert p["severity"] == "warning" and p["measure"] == "1"
    assert status_of(data, TARGET)["status"] == "submitted" and code == 0
    assert answers_on_record(env)["1"] == expected(env)["1"]


def test_generate_keeps_distributed_forms_and_names_who_needs_the_new_one(survey_env: Env):
    env = survey_env
    env.put_valid()
    forms = env.folder / S.FORMS_DIR
    before = {p.name: p.read_bytes() for p in forms.glob("*.xlsx")}
    # the section adds a measure for ICT推進課 after the forms went out
    import csv

    path = env.folder / "施策マスタ.csv"
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    rows.append(["99", "生成AIの試行", "Ⅰ", TARGET, "", "", "", ""])
    write_master(env.folder, rows[0], rows[1:])
    refused = runner.invoke(cli, ["generate", str(env.folder)])
    assert refused.exit_code == 2 and TARGET in refused.output and "--force" in refused.output
    assert {p.name: p.read_bytes() for p in forms.glob("*.xlsx")} == before  # untouched
    forced = runner.invoke(cli, ["generate", str(env.folder), "--force"])
    assert forced.exit_code == 0, forced.output
    assert f"新しい版を送り直す必要がある所管課: {TARGET}" in forced.output
    assert "作り直し 1 課、変更なし 8 課" in forced.output
    kept = list((forms / "旧版").glob("*.xlsx"))
    assert len(kept) == 1 and kept[0].read_bytes() == before[env.base.form_names[TARGET]]
    # the old form comes back: the new measure is not the department's mistake
    code, data = collect_json(env)
    mine = [p for p in data["problems"] if p["department"] == TARGET]
    assert {p["code"] for p in mine} == {"old-form", "measure-added-after-form"}
    added = next(p for p in mine if p["code"] == "measure-added-after-form")
    assert added["measure"] == "99" and "提出者の不備ではありません" in added["message"]
    assert not any("行を削除せず" in p["message"] for p in mine)
    status = status_of(data, TARGET)
    assert status["status"] == "submitted" and status["unanswered"] == 1 and code == 1
    assert not (env.output / "修正依頼").exists() or not any((env.output / "修正依頼").iterdir())
    summary = runner.invoke(cli, ["summarize", str(env.folder)])
    assert summary.exit_code == 1 and "[未回答] 施策番号 99 生成AIの試行（ICT推進課）" in summary.output


# --- 5. numbers are numbers ------------------------------------------------------------------

@pytest.mark.parametrize(("value", "fmt", "code", "shown"), [
    pytest.param(dt.datetime(2026, 1, 2), "m/d", "number-is-date", "2026/1/2", id="1/2-became-a-date"),
    pytest.param(0.75, "0%", "number-is-percent", "75%", id="75%-became-0.75"),
])
def test_date_or_percent_in_a_number_field(survey_env: Env, value, fmt, code, shown):
    env = survey_env
    env.put_valid(exclude={TARGET})

    def edit(wb, ws, columns, rows):
        cell = ws[f"{columns['実績値']}{rows['1']}"]
        cell.value = value
        cell.number_format = fmt
    path = env.edited("実績値.xlsx", edit)
    exit_code, data = collect_json(env)
    problem = next(p for p in data["problems"] if p["file"] == env.rel(path) and p["code"] == code)
    assert problem["cell"] == "F6" and problem["field"] == "実績値" and shown in problem["message"]
    assert status_of(data, TARGET)["status"] == "needs_fix" and exit_code == 1
    assert "実績値" not in answers_on_record(env).get("1", {})


# --- 6. identification without the hidden sheet ----------------------------------------------

def test_document_properties_identify_a_file_whose_id_sheet_was_deleted(survey_env: Env):
    env = survey_env
    env.put_valid(exclude={TARGET})
    path = env.edited("識別シートなし.xlsx", lambda wb, ws, c, r: wb.remove(wb["_id"]))
    assert "_id" not in openpyxl.load_workbook(path).sheetnames
    code, data = collect_json(env)
    assert codes_of(data, env.rel(path)) == set()
    assert status_of(data, TARGET)["status"] == "submitted" and code == 0
    got = answers_on_record(env)
    assert all(got[n] == want for n, want in expected(env).items())


# --- 7. names: one form per department, and check catches spellings -------------------------

def test_generate_prints_what_it_wrote_for_long_names(tmp_path):
    from tests.survey_helpers import make_survey

    long = "子ども家庭総合支援センター" * 12
    rows = [[i, f"施策{i}", "Ⅰ", f"{long}{suffix}", ""] for i, suffix in enumerate("甲乙丙", 1)]
    folder = make_survey(tmp_path / "s", "2025", ["施策番号", "施策名", "基本方針", "所管課", "前年度評価"], rows)
    res = runner.invoke(cli, ["generate", str(folder)])
    assert res.exit_code == 0, res.output
    assert "調査票 3 課分: 新規 3 課" in res.output
    assert len(list((folder / S.FORMS_DIR).glob("*.xlsx"))) == 3


def test_check_refuses_one_department_spelt_two_ways(tmp_path):
    from tests.survey_helpers import make_survey

    rows = [[1, "A", "Ⅰ", "ICT推進課", ""], [2, "B", "Ⅰ", "ICT 推進課", ""]]
    folder = make_survey(tmp_path / "s", "2025", ["施策番号", "施策名", "基本方針", "所管課", "前年度評価"], rows)
    res = runner.invoke(cli, ["check", str(folder)])
    assert res.exit_code == 1 and "「ICT 推進課」は 2 行目の「ICT推進課」" in res.output
    assert runner.invoke(cli, ["generate", str(folder)]).exit_code == 2


# --- 8. re-running collect is idempotent and cheap ---------------------------------------------

def test_second_collect_reuses_checked_files(survey_env: Env):
    env = survey_env
    env.put_valid()
    first = collect_json(env)
    second = collect_json(env)
    assert first == second


def test_demo_answers_land_in_their_fields_after_a_resave(survey_env: Env, tmp_path):
    """A form filled twice (the second time a newer save) keeps the newer answers only."""
    env = survey_env
    env.put_valid(exclude={TARGET})
    answers = example_answers(env.folder)
    changed = {k: dict(v) for k, v in answers.items()}
    changed["1"]["評価"] = "未達成"
    out = tmp_path / "再提出.xlsx"
    fill_form(env.form(TARGET), out, changed)
    set_modified(out, NEWER)
    shutil.copy2(env.base.filled[TARGET], env.returns / "初回.xlsx")
    shutil.copy2(out, env.returns / "再提出.xlsx")
    code, data = collect_json(env)
    assert status_of(data, TARGET)["file"] == "2_回収/再提出.xlsx"
    assert answers_on_record(env)["1"]["評価"] == "未達成"
    (rep,) = data["replacements"]
    assert [(c["measure"], c["field"]) for c in rep["changes"]] == [("1", "評価")]


def test_respondent_is_read_from_the_form(tmp_path):
    """The demo's departments fill 記入者 and 内線; collect reports whom to call."""
    assert runner.invoke(cli, ["demo", str(tmp_path / "d")]).exit_code == 0
    res = runner.invoke(cli, ["collect", str(tmp_path / "d"), "--json"])
    data = json.loads(res.stdout)
    assert status_of(data, "ICT推進課")["respondent"] == {"記入者": "佐藤 一郎", "内線": "2021"}
    assert status_of(data, "総務課")["respondent"] == {"記入者": "高橋 健", "内線": "2110"}
