"""A real spreadsheet application: LibreOffice opens our forms, a person's input is typed in
through its own scripting (UNO), the file is saved as .xlsx, and collect reads it back."""

from __future__ import annotations

import shutil

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from tests.support.lo import convert, libreoffice_or_skip, lo_fill
from tests.survey_helpers import copy_example
from tests.survey_helpers import forms_of as generate
from xlsx_tool.collect.run import collect
from xlsx_tool.define.master import load
from xlsx_tool.forms.layout import FIRST_ROW

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    libreoffice_or_skip()
    folder = copy_example(tmp_path_factory.mktemp("lo") / "survey")
    loaded, _ = load(folder)
    forms = generate(loaded)
    department = "戸籍住民課"  # two measures: one 未達成, one 達成+
    form = next(p for p in forms if department in p.name)
    ws = openpyxl.load_workbook(form)["_id"]
    columns = {r[1]: get_column_letter(int(r[2])) for r in ws.iter_rows(values_only=True) if r[0] == "column"}
    rows = {r[1]: r[2] for r in ws.iter_rows(values_only=True) if r[0] == "measure"}
    answers = {"12": ("未達成", 43.8, "出張申請を一部実施した。"), "13": ("達成+", 12.5, "コンビニ交付を拡大した。")}
    fill = {}
    for number, (rating, actual, text) in answers.items():
        row = rows[number]
        fill[f"{columns['評価']}{row}"] = rating
        fill[f"{columns['実績値']}{row}"] = actual
        fill[f"{columns['取組実績']}{row}"] = text
    out = folder / "2_回収" / "戸籍住民課_LibreOffice保存.xlsx"
    before = form.read_bytes()
    result = lo_fill(form, out, {"調査票": fill}, ["調査票"])
    assert form.read_bytes() == before  # LibreOffice worked on a copy
    return loaded, form, out, result, columns, rows, answers


def test_libreoffice_sees_dropdowns_and_locks(filled):
    _loaded, _form, _out, result, columns, rows, _answers = filled
    assert result["protected"]["調査票"] is True
    by_cell = {v["cell"]: v for v in result["validations"]["調査票"]}
    for row in rows.values():
        v = by_cell[f"{columns['評価']}{row}"]
        assert v["type"] == "LIST" and v["error_style"] == "STOP" and not v["locked"]
        assert "達成+" in v["formula1"] and "未達成" in v["formula1"]
    assert not result["list_problems"]  # what was typed is in the list


def test_saved_file_keeps_dropdowns_and_identification(filled):
    _loaded, _form, out, _result, columns, rows, answers = filled
    wb = openpyxl.load_workbook(out)
    assert wb["_id"].sheet_state in ("hidden", "veryHidden")  # LibreOffice saves very hidden as hidden
    record = {r[0]: r[1] for r in wb["_id"].iter_rows(values_only=True)}
    assert record["department"] == "戸籍住民課" and record["survey"] == "itabashi-ict2025-r3"
    ws = wb["調査票"]
    assert ws.protection.sheet
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and all("達成+" in dv.formula1 for dv in lists)
    assert ws[f"{columns['評価']}{rows['12']}"].value == answers["12"][0]


def test_collect_reads_the_libreoffice_file(filled):
    loaded, _form, out, _result, _columns, _rows, answers = filled
    result = collect(loaded)
    status = {d.department: d for d in result.departments}
    assert status["戸籍住民課"].status == "submitted", [p.text() for p in result.problems]
    sub = next(s for s in result.submissions if s.file.endswith(out.name))
    assert sub.answers["12"]["評価"] == "未達成" and sub.answers["13"]["評価"] == "達成+"
    assert sub.answers["12"]["実績値"] == pytest.approx(43.8)
    assert sub.answers["13"]["取組実績"] == answers["13"][2]


def test_form_and_summary_convert_without_error(filled, tmp_path):
    _loaded, form, _out, _result, _c, _r, _a = filled
    copy = tmp_path / "form.xlsx"
    shutil.copy(form, copy)
    pdf = convert(copy, "pdf", tmp_path)
    assert pdf.exists() and pdf.stat().st_size > 10_000


def test_first_data_row_matches_layout(filled):
    _loaded, _form, _out, _result, _columns, rows, _answers = filled
    assert min(int(r) for r in rows.values()) == FIRST_ROW + 1
