"""The integrity cases of test_integrity.py with the edits made in real LibreOffice.

Each department's filled form is edited the way a clerk does it in Calc (unprotect and
insert a column, delete the hidden sheet, type 「1/2」 or 「75%」, copy a row and renumber it)
and saved by LibreOffice; one collect then reads them all.
"""

from __future__ import annotations

import json

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import TARGET, Env, form_layout

from tests.support.lo import libreoffice_or_skip, lo_edit
from xlsx_tool.cli import cli
from xlsx_tool.define import survey as S

pytestmark = pytest.mark.libreoffice
SHEET = "調査票"


def layout(path):
    return form_layout(openpyxl.load_workbook(path))


@pytest.fixture(scope="module")
def collected(example_base, tmp_path_factory):
    libreoffice_or_skip()
    import shutil

    folder = tmp_path_factory.mktemp("lo_integrity") / "survey"
    shutil.copytree(example_base.folder, folder)
    env = Env(example_base, folder)
    edited = {"ICT推進課", "総務課", "人事課", "経営改革推進課"}
    env.put_valid(exclude=edited)
    filled = example_base.filled

    cols, rows = layout(filled[TARGET])
    lo_edit(filled[TARGET], env.returns / "ICT_列を追加.xlsx", [
        {"op": "unprotect", "sheet": SHEET, "password": ""},
        {"op": "insert_columns", "sheet": SHEET, "before": cols["実績値"], "count": 1},
        {"op": "type", "sheet": SHEET, "cell": f"{cols['実績値']}5", "text": "備考"},
        {"op": "type", "sheet": SHEET, "cell": f"{cols['実績値']}{rows['1']}", "text": "確認済み"},
    ])
    lo_edit(filled["総務課"], env.returns / "総務課_識別シートなし.xlsx",
            [{"op": "remove_sheet", "sheet": "_id"}])
    cols, rows = layout(filled["人事課"])
    first, second = list(rows)[:2]
    lo_edit(filled["人事課"], env.returns / "人事課_日付と率.xlsx", [
        {"op": "type", "sheet": SHEET, "cell": f"{cols['実績値']}{rows[first]}", "text": "1/2"},
        {"op": "type", "sheet": SHEET, "cell": f"{cols['実績値']}{rows[second]}", "text": "75%"},
    ])
    cols, rows = layout(filled["経営改革推進課"])
    last = max(rows.values())
    lo_edit(filled["経営改革推進課"], env.returns / "経営改革_他課の行.xlsx", [
        {"op": "unprotect", "sheet": SHEET, "password": ""},
        {"op": "copy_row", "sheet": SHEET, "from": last, "to": last + 1, "mode": "values"},
        {"op": "type", "sheet": SHEET, "cell": f"A{last + 1}", "text": "1"},  # ICT推進課's measure
    ])
    res = CliRunner().invoke(cli, ["collect", str(folder), "--json"], catch_exceptions=False)
    return env, json.loads(res.stdout), rows


def problems(data, file):
    return {p["code"]: p for p in data["problems"] if p["file"] == f"2_回収/{file}"}


def status(data, department):
    return next(d for d in data["departments"] if d["department"] == department)


def on_record(env):
    from xlsx_tool.ledger import open_ledger

    with open_ledger(env.folder / S.LEDGER_FILE) as book:
        return book.current_answers(env.loaded).answers


def test_column_inserted_in_libreoffice_is_read_by_header(collected):
    env, data, _rows = collected
    found = problems(data, "ICT_列を追加.xlsx")
    assert set(found) == {"columns-moved", "column-added"}
    assert "備考" in found["column-added"]["message"]
    assert status(data, TARGET)["status"] == "submitted"
    answers = on_record(env)
    assert answers["1"]["実績値"] == 1243 and answers["1"]["取組実績"].startswith("全庁でWeb会議")


def test_id_sheet_deleted_in_libreoffice_still_identified(collected):
    _env, data, _rows = collected
    assert problems(data, "総務課_識別シートなし.xlsx") == {}
    assert status(data, "総務課")["status"] == "submitted"


def test_date_and_percent_typed_in_libreoffice(collected):
    _env, data, _rows = collected
    found = problems(data, "人事課_日付と率.xlsx")
    assert {"number-is-date", "number-is-percent"} <= set(found)
    assert "75%" in found["number-is-percent"]["message"]
    assert status(data, "人事課")["status"] == "needs_fix"


def test_row_of_another_department_added_in_libreoffice(collected):
    env, data, _rows = collected
    found = problems(data, "経営改革_他課の行.xlsx")
    assert found["measure-other-department"]["measure"] == "1"
    assert status(data, "経営改革推進課")["status"] == "needs_fix"
    assert status(data, TARGET)["status"] == "submitted"
    assert on_record(env)["1"]["評価"] == "達成+"  # ICT推進課's own answer, untouched
