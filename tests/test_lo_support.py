"""The LibreOffice test helper's clerk edits (tests/support/lo_fill.py "edits"): each
operation is applied to a generated form by real LibreOffice, the file is saved as
.xlsx and read back with openpyxl."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter

from tests.support.lo import LO_FILL_SCRIPT, libreoffice_or_skip, lo_edit, lo_fill
from tests.survey_helpers import copy_example, forms_of
from xlsx_tool.define.master import load

SHEET = "調査票"


def _lo_fill_module():
    spec = importlib.util.spec_from_file_location("lo_fill_script", LO_FILL_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # stdlib only at import time; uno is imported lazily
    return module


def _column(value) -> str:
    """A column from `_id`: a 1-based number ("5", 5) or, in older forms, a letter."""
    text = str(value).strip()
    return get_column_letter(int(text)) if text.isdigit() else text.upper()


def _layout(form: Path):
    rows = list(openpyxl.load_workbook(form)["_id"].iter_rows(values_only=True))
    columns = {r[1]: _column(r[2]) for r in rows if r[0] == "column"}
    measures = {r[1]: int(r[2]) for r in rows if r[0] == "measure"}
    header = next(int(r[1]) for r in rows if r[0] == "header_row")
    return columns, measures, header


def _shift(col: str, by: int) -> str:
    return get_column_letter(column_index_from_string(col) + by)


@pytest.fixture(scope="module")
def form(tmp_path_factory):
    libreoffice_or_skip()
    folder = copy_example(tmp_path_factory.mktemp("lo_support") / "survey")
    loaded, _ = load(folder)
    return forms_of(loaded)[0]


# -- without LibreOffice: the SPEC checks that run before soffice starts ------------


def test_column_and_row_arguments_accept_letters_and_numbers():
    m = _lo_fill_module()
    assert m.column_index("F") == m.column_index("f") == m.column_index(6) == m.column_index("6") == 5
    assert m.column_index("AA") == 26
    assert m.row_index(7) == m.row_index("7") == 6
    for bad in ("F1", "", 0, "-1", None, True, "ABCD"):
        with pytest.raises(m.FillError):
            m.column_index(bad)
    for bad in (0, "F", None, True, 1.5):
        with pytest.raises(m.FillError):
            m.row_index(bad)


def test_bad_edits_are_refused_before_libreoffice_starts():
    m = _lo_fill_module()
    m.check_edits([{"op": "unprotect", "sheet": SHEET}, {"op": "type", "sheet": SHEET, "cell": "A1", "text": "x"}])
    for edits, words in (
        ({"op": "unprotect"}, "list"),
        ([{"sheet": SHEET}], '"op"'),
        ([{"op": "insert_column", "sheet": SHEET, "before": "F"}], "unknown op"),
        ([{"op": "insert_columns", "sheet": SHEET}], "missing"),
        ([{"op": "insert_columns", "sheet": SHEET, "before": "F", "cuont": 2}], "unknown key"),
    ):
        with pytest.raises(m.FillError, match=words):
            m.check_edits(edits)


def test_main_reports_a_bad_spec_as_json(tmp_path, capsys):
    m = _lo_fill_module()
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"edits": [{"op": "explode", "sheet": SHEET}]}), encoding="utf-8")
    assert m.main(["lo_fill.py", str(tmp_path / "in.xlsx"), str(tmp_path / "out.xlsx"), str(spec)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and "unknown op 'explode'" in out["error"]


# -- with LibreOffice ------------------------------------------------------------------


@pytest.mark.libreoffice
def test_typing_unprotect_insert_copy_remove_rename(form, tmp_path):
    """One LibreOffice run: typed input first (on the protected sheet, unlocked
    cells), then the structural edits, each checked in the saved file."""
    columns, measures, header = _layout(form)
    first = min(measures.values())
    second = sorted(measures.values())[1]
    actual, done, issues = columns["実績値"], columns["取組実績"], columns["課題・今後の取組"]
    header_text = openpyxl.load_workbook(form)[SHEET][f"{actual}{header}"].value
    out = tmp_path / "clerk.xlsx"

    def typed(col, row, text):
        return {"op": "type", "sheet": SHEET, "cell": f"{col}{row}", "text": text}

    result = lo_fill(
        form,
        out,
        inspect=["入力"],
        edits=[
            typed(done, first, "1/2"),
            typed(issues, first, "75%"),
            typed(actual, first, "1/2"),  # 実績値 is "#,##0.###": Calc keeps it
            typed(actual, second, "1,234"),
            typed(done, second, "=1+1"),
            typed(issues, second, "'123"),
            {"op": "unprotect", "sheet": SHEET, "password": ""},
            {"op": "copy_row", "sheet": SHEET, "from": first, "to": 20},
            {"op": "insert_columns", "sheet": SHEET, "before": actual, "count": 1},
            {"op": "remove_sheet", "sheet": "_id"},
            {"op": "rename_sheet", "sheet": SHEET, "to": "入力"},
        ],
    )
    edits = result["edits"]
    assert [e["op"] for e in edits][-5:] == [
        "unprotect", "copy_row", "insert_columns", "remove_sheet", "rename_sheet",
    ]
    assert all(e["ok"] for e in edits)
    assert edits[0]["kind"] == "VALUE" and "YY" in edits[0]["number_format"].upper()
    assert edits[1]["value"] == pytest.approx(0.75) and "%" in edits[1]["number_format"]
    assert edits[4]["kind"] == "FORMULA" and edits[4]["value"] == 2
    assert edits[6]["was_protected"] is True
    assert edits[9]["was_visible"] is False
    assert result["protected"] == {"入力": False}
    assert [s["name"] for s in result["sheets"]] == ["記入要領", "入力"]

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["記入要領", "入力"]  # _id removed, 調査票 renamed
    ws = wb["入力"]
    assert not ws.protection.sheet
    # The inserted column: the header moved one column right, the old place is empty.
    assert ws[f"{actual}{header}"].value is None
    assert ws[f"{_shift(actual, 1)}{header}"].value == header_text
    done, issues, actual = _shift(done, 1), _shift(issues, 1), _shift(actual, 1)
    # "1/2" typed into a General cell: a date with a date format.
    cell = ws[f"{done}{first}"]
    assert cell.is_date and (cell.value.month, cell.value.day) == (1, 2)
    # "75%": 0.75 with a percent format.
    cell = ws[f"{issues}{first}"]
    assert cell.value == pytest.approx(0.75) and "%" in cell.number_format
    # "1/2" in the 実績値 column: the form leaves number cells General on purpose, so the
    # typed date keeps the date format that tells collect what happened.
    cell = ws[f"{actual}{first}"]
    assert cell.is_date
    assert ws[f"{actual}{second}"].value == 1234
    assert ws[f"{done}{second}"].value == "=1+1"
    assert ws[f"{issues}{second}"].value == "123" and ws[f"{issues}{second}"].data_type == "s"
    # The copied row: same contents as the measure row (typed values included).
    def values(row):
        return [c.value for c in ws[row]]
    assert values(20) == values(first)
    assert ws[f"A{first}"].value and ws[f"A{20}"].value == ws[f"A{first}"].value


@pytest.mark.libreoffice
def test_delete_insert_rows_and_columns_then_fill_in_japanese_locale(form, tmp_path):
    """One LibreOffice run in ja-JP: deletions and insertions, re-protection, then
    typing a Japanese-style date and filling (both after the shifts)."""
    columns, measures, header = _layout(form)
    first = min(measures.values())
    wb = openpyxl.load_workbook(form)
    before = wb[SHEET]
    row_below = [c.value for c in before[first + 1]]
    after_d = [before.cell(row=header, column=c).value for c in range(5, before.max_column + 1)]
    number_of_d = str(column_index_from_string("D"))  # columns as `_id` writes them
    out = tmp_path / "clerk.xlsx"
    rating = columns["評価"]
    done = _shift(columns["取組実績"], -1)
    result = lo_fill(
        form,
        out,
        # After the edits below the next measure row's rating is one column left
        # (D deleted) and one row lower (one row deleted above, two inserted).
        {SHEET: {f"{_shift(rating, -1)}{first + 2}": "達成"}},
        [SHEET],
        edits=[
            {"op": "unprotect", "sheet": SHEET},
            {"op": "delete_columns", "sheet": SHEET, "column": number_of_d, "count": 1},
            {"op": "delete_rows", "sheet": SHEET, "row": first, "count": 1},
            {"op": "insert_rows", "sheet": SHEET, "before": first, "count": 2},
            {"op": "show_sheet", "sheet": "_id"},
            {"op": "protect", "sheet": SHEET},
            # An unlocked cell of the protected sheet; "2021/4/1" is a date in ja-JP
            # (text in en-US).
            {"op": "type", "sheet": SHEET, "cell": f"{done}{first + 2}", "text": "2021/4/1"},
        ],
        locale="ja-JP",
    )
    assert [(e["op"], e["ok"]) for e in result["edits"]] == [
        ("unprotect", True), ("delete_columns", True), ("delete_rows", True),
        ("insert_rows", True), ("show_sheet", True), ("protect", True), ("type", True),
    ]
    assert result["locale"] == "ja-JP" and result["edits"][-1]["kind"] == "VALUE"
    assert result["edits"][1]["column"] == "D"
    assert result["protected"][SHEET] is True
    ws = openpyxl.load_workbook(out)[SHEET]
    assert ws.protection.sheet
    assert [ws.cell(row=header, column=c).value for c in range(4, 4 + len(after_d))] == after_d
    # Row `first` was deleted, two empty rows inserted there; the next measure row
    # (without its D cell) now sits two rows lower, with the filled rating.
    assert all(c.value is None for r in (first, first + 1) for c in ws[r])
    moved = [c.value for c in ws[first + 2]]
    assert moved[:3] == row_below[:3] and moved[4] == row_below[5] and moved[6] == row_below[7]
    assert moved[3] == "達成"
    typed = ws[f"{done}{first + 2}"]
    assert typed.is_date and (typed.value.year, typed.value.month, typed.value.day) == (2021, 4, 1)
    assert openpyxl.load_workbook(out)["_id"].sheet_state == "visible"


@pytest.mark.libreoffice
def test_structural_edit_on_a_protected_sheet_is_an_error(form, tmp_path):
    edits = [
        {"op": "type", "sheet": SHEET, "cell": "A1", "text": "x"},  # locked: refused first
    ]
    result = lo_edit(form, tmp_path / "x.xlsx", edits, check=False)
    assert result["ok"] is False and "locked on a protected sheet" in result["error"]
    assert result["error"].startswith("edits[0] type:")
    edits = [{"op": "insert_columns", "sheet": SHEET, "before": "F", "count": 1}]
    with pytest.raises(RuntimeError, match=r"protected.*unprotect"):
        lo_edit(form, tmp_path / "y.xlsx", edits)
