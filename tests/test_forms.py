"""generate: each form read back with openpyxl and with python-calamine, an independent reader."""

from __future__ import annotations

import hashlib
import zipfile

import openpyxl
import pytest

from tests.survey_helpers import copy_example, make_survey
from tests.survey_helpers import forms_of as generate
from xlsx_tool.define.master import load
from xlsx_tool.forms.layout import FIRST_ROW, HEADER_ROW
from xlsx_tool.forms.writer import Correction, Mark, form_bytes


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    folder = copy_example(tmp_path_factory.mktemp("ex") / "survey")
    loaded, problems = load(folder)
    assert not [p for p in problems if p.is_error]
    return loaded, generate(loaded)


@pytest.fixture(scope="module")
def survey2020(tmp_path_factory):
    folder = make_survey(tmp_path_factory.mktemp("s2020") / "survey", "2020")
    loaded, _ = load(folder)
    return loaded, generate(loaded)


def headers(ws) -> list[str]:
    return [c.value for c in ws[HEADER_ROW + 1]]


def test_one_form_per_department_with_windows_valid_names(example):
    loaded, paths = example
    assert len(paths) == len(loaded.master.departments) == 9
    for path, department in zip(paths, loaded.master.departments, strict=True):
        assert department in path.name and path.name.startswith("令和3年度_")
        assert not set(path.name) & set('<>:"/\\|?*')


def test_sheets_identification_and_measures(example):
    loaded, paths = example
    for path, department in zip(paths, loaded.master.departments, strict=True):
        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames[:2] == ["記入要領", "調査票"]
        ident = wb["_id"]
        assert ident.sheet_state == "veryHidden"
        record = {r[0]: r[1] for r in ident.iter_rows(values_only=True)}
        assert record["survey"] == "itabashi-ict2025-r3"
        assert record["fiscal_year"] == "2021"
        assert record["department"] == department
        assert len(record["form_version"]) == 16
        rows = {r[1]: r[2] for r in ident.iter_rows(values_only=True) if r[0] == "measure"}
        mine = [m.number for m in loaded.master.of(department)]
        assert list(rows) == mine
        ws = wb["調査票"]
        for number, row in rows.items():
            assert str(ws.cell(int(row), 1).value) == number
        props = {p.name: p.value for p in wb.custom_doc_props.props}
        assert props["xlsx_tool_department"] == department


def test_validations_for_every_input_cell(example):
    loaded, paths = example
    wb = openpyxl.load_workbook(paths[0])
    ws = wb["調査票"]
    head = headers(ws)
    n = len(loaded.master.of(loaded.master.departments[0]))
    by_column = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            by_column[rng.min_col] = (dv, rng)
    expected = {"評価\n（必須）": "list", "実績値": "decimal", "取組実績\n（必須）": "textLength",
                "課題・今後の取組": "textLength"}
    for header, kind in expected.items():
        col = head.index(header) + 1
        dv, rng = by_column[col]
        assert dv.type == kind
        assert (rng.min_row, rng.max_row) == (FIRST_ROW + 1, FIRST_ROW + n)
        assert dv.errorStyle in (None, "stop")  # stop is Excel's default
        assert dv.showErrorMessage and dv.showInputMessage
    rating, _ = by_column[head.index("評価\n（必須）") + 1]
    assert rating.formula1 == '"達成+,達成,未達成"'
    assert "令和3年度計画の事業量を上回る実績" in rating.prompt  # the definitions, as input message
    text, _ = by_column[head.index("取組実績\n（必須）") + 1]
    assert text.operator == "lessThanOrEqual" and text.formula1 == "400"


def test_protection_locking_and_highlight(example):
    _loaded, paths = example
    ws = openpyxl.load_workbook(paths[0])["調査票"]
    assert ws.protection.sheet
    assert ws.protection.formatRows is False and ws.protection.formatColumns is False  # allowed
    head = headers(ws)
    for col, header in enumerate(head, 1):
        cell = ws.cell(FIRST_ROW + 1, col)
        is_input = header in ("評価\n（必須）", "実績値", "取組実績\n（必須）", "課題・今後の取組")
        assert cell.protection.locked is not is_input, header
        if is_input:
            assert cell.fill.fgColor.rgb.endswith("FFF2CC")  # marked as input
    assert ws.cell(1, 1).protection.locked
    rules = [r for rng in ws.conditional_formatting for r in rng.rules]
    assert any(r.type == "containsBlanks" for r in rules)
    assert openpyxl.load_workbook(paths[0])["記入要領"].protection.sheet


def test_print_setup_font_and_frozen_header(example):
    _loaded, paths = example
    wb = openpyxl.load_workbook(paths[0])
    ws = wb["調査票"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1)  # absent means Excel's default, 1 page wide
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == f"${HEADER_ROW + 1}:${HEADER_ROW + 1}"
    assert "ICT推進課" in ws.oddFooter.left.text and "&P" in ws.oddFooter.right.text
    assert ws.freeze_panes == f"D{FIRST_ROW + 1}"
    assert ws.cell(FIRST_ROW + 1, 3).font.name == "游ゴシック"
    assert ws.cell(FIRST_ROW + 1, 3).alignment.wrap_text
    name_width = ws.column_dimensions["C"].width
    assert name_width >= 20  # full-width names need room


def test_instructions_carry_definitions_and_deadline(example):
    loaded, paths = example
    ws = openpyxl.load_workbook(paths[0])["記入要領"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert loaded.survey.deadline in text and loaded.survey.contact in text
    for v in loaded.survey.rating_scale.values:
        assert v.value in text and v.definition in text
    assert "行や列の追加・削除" in text


@pytest.mark.calamine
def test_independent_reader_sees_the_same_cells(example):
    from python_calamine import CalamineWorkbook

    loaded, paths = example
    wb = CalamineWorkbook.from_path(str(paths[0]))
    assert wb.sheet_names[:2] == ["記入要領", "調査票"]
    rows = wb.get_sheet_by_name("調査票").to_python()
    assert rows[HEADER_ROW][:3] == ["施策番号", "基本方針", "施策名"]
    numbers = [r[0] for r in rows[FIRST_ROW:] if r and r[0] != ""]
    assert numbers == [m.number for m in loaded.master.of(loaded.master.departments[0])]


def test_same_inputs_same_cells(example):
    loaded, _paths = example
    department = loaded.master.departments[0]
    a, b = form_bytes(loaded, department), form_bytes(loaded, department)
    za, zb = zipfile.ZipFile(__import__("io").BytesIO(a)), zipfile.ZipFile(__import__("io").BytesIO(b))
    for name in za.namelist():
        if name != "docProps/core.xml":
            assert za.read(name) == zb.read(name), name


def test_ended_measures_prefilled_and_locked(survey2020):
    loaded, paths = survey2020
    (path,) = [p for p in paths if "情報政策課" in p.name]
    ws = openpyxl.load_workbook(path)["調査票"]
    head = headers(ws)
    rating, direction = head.index("評価\n（必須）") + 1, head.index("方向性\n（必須）") + 1
    rows = {str(ws.cell(r, 1).value): r for r in range(FIRST_ROW + 1, ws.max_row + 1)}
    ended = rows["3"]  # 前年度方向性 完了
    assert ws.cell(ended, rating).value == "終了"
    assert ws.cell(ended, direction).value == "完了"
    assert ws.cell(ended, rating).protection.locked
    open_row = rows["1"]
    assert ws.cell(open_row, rating).value is None and not ws.cell(open_row, rating).protection.locked
    dv = next(d for d in ws.data_validations.dataValidation if min(r.min_col for r in d.sqref.ranges) == rating)
    assert "終了" not in dv.formula1  # set by the tool, never chosen by a department
    assert '"AA,A,B,C,その他"' == dv.formula1


def test_long_lists_go_through_hidden_list_sheet(tmp_path):
    long_values = ", ".join(f'{{ value = "選択肢{i:02d}の説明が長い区分です" }}' for i in range(20))

    def edit(text: str) -> str:
        start = text.index('[scales."評価"]')
        end = text.index("[[fields]]")
        return text[:start] + f'[scales."評価"]\nvalues = [{long_values}]\n\n' + text[end:]

    folder = make_survey(tmp_path / "s", "2025", toml_edit=edit)
    loaded, problems = load(folder)
    assert "list-too-long" in [p.code for p in problems]
    path = generate(loaded)[0]
    wb = openpyxl.load_workbook(path)
    assert wb["_lists"].sheet_state == "hidden"
    dv = wb["調査票"].data_validations.dataValidation[0]
    assert dv.type == "list" and dv.formula1.startswith("'_lists'!$A$1:$A$20")


def test_correction_copy_marks_cells(example):
    loaded, _paths = example
    department = loaded.master.departments[0]
    number = loaded.master.of(department)[0].number
    fix = Correction("返送.xlsx", 1, "令和4年5月20日（金）",
                     {(number, "評価"): [Mark("unknown-choice", "選択肢にありません", "良い")]})
    data = form_bytes(loaded, department, {number: {"評価": "良い"}}, fix)
    import io

    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["調査票"]
    head = headers(ws)
    col = head.index("評価\n（必須）") + 1
    cell = ws.cell(FIRST_ROW + 1, col)
    assert cell.value == "良い"
    letter = cell.column_letter
    rules = [(str(cf.sqref), r.formula) for cf in ws.conditional_formatting for r in cf.rules
             if r.type == "expression"]
    assert rules == [(cell.coordinate, [f'{letter}{FIRST_ROW + 1}="良い"'])]  # clears once changed
    assert head[-1] == "修正内容"
    assert "選択肢にありません" in ws.cell(FIRST_ROW + 1, len(head)).value  # printed beside the row
    request = "".join(str(c.value) for row in wb["記入要領"].iter_rows() for c in row if c.value)
    assert "修正箇所" in request and "令和4年5月20日（金）までに" in request


def test_file_names_never_collide(tmp_path):
    """Long names cut at the same point, or names equal but for case, still get one file each."""
    long = "地域振興部" * 30
    rows = [[1, "A", "Ⅰ", long + "甲課", ""], [2, "B", "Ⅰ", long + "乙課", ""],
            [3, "C", "Ⅰ", "課*A", ""], [4, "D", "Ⅰ", "課?A", ""], [5, "E", "Ⅰ", "課/A", ""], [6, "F", "Ⅰ", "課:A", ""]]
    folder = make_survey(tmp_path / "s", "2025", ["施策番号", "施策名", "基本方針", "所管課", "前年度評価"], rows)
    loaded, problems = load(folder)
    assert not [p for p in problems if p.is_error], [p.text() for p in problems]
    paths = generate(loaded)
    assert len(paths) == 6 == len({p.name.casefold() for p in paths})
    assert sorted(p.name for p in (folder / "1_配布").iterdir()) == sorted(p.name for p in paths)
    assert all(len(p.name.encode()) <= 200 for p in paths)  # Linux allows 255 bytes a name


def test_our_reader_takes_the_record_from_the_hidden_sheet_itself(example):
    # the document properties repeat the record; the sheet, with its columns and measures, comes first
    from xlsx_tool.forms import layout as L
    from xlsx_tool.intake.reader import read_workbook

    loaded, paths = example
    raw = read_workbook(paths[0], (loaded.survey.input_sheet,))
    record = L.read_record(raw)
    assert not record.from_properties
    assert record.department == loaded.master.departments[0]
    assert record.measures == tuple(m.number for m in loaded.master.of(loaded.master.departments[0]))
    assert record.columns and record.header_row == HEADER_ROW + 1


def _many_departments(folder, count: int):
    rows = [[i + 1, f"施策{i + 1}", "ⅠⅡⅢⅣ"[i % 4], f"第{i // 2 + 1:02d}課", "指標", "件", 10, ""]
            for i in range(count * 2)]
    folder = make_survey(folder, rows=rows)
    loaded, problems = load(folder)
    assert not [p for p in problems if p.is_error]
    return loaded


def test_forms_built_by_two_workers_are_the_bytes_and_ledger_one_process_writes(tmp_path):
    from xlsx_tool.forms import generate as G
    from xlsx_tool.ledger import open_ledger

    count = G.PARALLEL_FROM + 6
    runs = {}
    for workers in (1, 2):
        loaded = _many_departments(tmp_path / str(workers), count)
        said: list[str] = []
        result = G.generate(loaded, workers=workers, progress=said.append)
        assert sorted(said) == sorted(loaded.asked) and len(said) == count  # one line per form
        with open_ledger(loaded.survey.path("回収台帳.sqlite3")) as ledger:
            records = ledger.distributions()
        files = {p.name: p.read_bytes() for p in result.written}
        assert sorted(p.name for p in (tmp_path / str(workers) / "1_配布").iterdir()) == sorted(files)  # no temp file left
        runs[workers] = files, {d: (r["version"], r["file"], r["sha256"]) for d, r in records.items()}
    assert len(runs[1][0]) == count
    assert runs[2] == runs[1]
    _version, name, sha = runs[2][1]["第01課"]
    assert sha == hashlib.sha256(runs[2][0][name]).hexdigest()  # the ledger's sha is of the file on disk


def test_a_form_that_cannot_be_written_stops_generate_and_the_ledger_records_none(tmp_path, monkeypatch):
    import errno

    from xlsx_tool.errors import OutputError
    from xlsx_tool.forms import generate as G
    from xlsx_tool.ledger import open_ledger
    from xlsx_tool.xlsxout import atomic_write, write_failure

    loaded = _many_departments(tmp_path / "s", G.PARALLEL_FROM + 2)

    def full_disk(path, data):
        if "第07課" in path.name:
            raise write_failure(path, OSError(errno.ENOSPC, "No space left on device"))
        atomic_write(path, data)

    monkeypatch.setattr(G, "atomic_write", full_disk)
    with pytest.raises(OutputError, match="第07課.*ディスクの空き容量が足りません"):
        G.generate(loaded, workers=2)
    with open_ledger(loaded.survey.path("回収台帳.sqlite3")) as ledger:
        assert ledger.distributions() == {}  # nothing is recorded as distributed
    monkeypatch.undo()
    again = G.generate(loaded, workers=2)  # the next run writes what is missing and records every form
    assert "第07課" in again.new
    with open_ledger(loaded.survey.path("回収台帳.sqlite3")) as ledger:
        assert set(ledger.distributions()) == set(loaded.asked)
