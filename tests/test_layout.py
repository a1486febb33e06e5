"""The form's layout (forms/layout.py) on its own: the columns a master gives, the text of
fixed cells, the identification record, and finding columns and the respondent again in a
returned sheet given as raw cells (as the reader hands them over)."""

from __future__ import annotations

import pytest

from tests.survey_helpers import make_survey
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Measure, load
from xlsx_tool.forms import layout as L
from xlsx_tool.intake.reader import ID_SHEET, RawCell, RawWorkbook
from xlsx_tool.xlsxout import width_budget


@pytest.fixture(scope="module")
def s2025(tmp_path_factory):
    loaded, problems = load(make_survey(tmp_path_factory.mktemp("l25") / "s", "2025"))
    assert loaded is not None, problems
    return loaded


@pytest.fixture(scope="module")
def s2020(tmp_path_factory):
    loaded, problems = load(make_survey(tmp_path_factory.mktemp("l20") / "s", "2020"))
    assert loaded is not None, problems
    return loaded


def test_columns_of_the_2025_template(s2025):
    cols = L.columns(s2025)
    assert [(c.key, c.header, c.input, c.wrap) for c in cols] == [
        ("施策番号", "施策番号", False, False), ("group", "基本方針", False, False), ("施策名", "施策名", False, True),
        ("indicator", "指標・目標値", False, True), ("previous", "前年度評価", False, True),
        ("評価", "評価\n（必須）", True, False), ("実績値", "実績値", True, False),
        ("取組実績", "取組実績\n（必須）", True, True), ("課題・今後の取組", "課題・今後の取組", True, True)]
    assert L.columns(s2025) is cols  # computed once per load
    by_key = {c.key: c for c in cols}
    assert by_key["施策名"].width == 24.0 and by_key["取組実績"].width == 44.0  # 400 characters: wide
    assert 6 <= by_key["施策番号"].width <= 10 and 8 <= by_key["評価"].width <= 16
    assert by_key["評価"].field is s2025.survey.field("評価")


def test_columns_of_the_2020_template(s2020):
    cols = L.columns(s2020)
    assert [c.header for c in cols if not c.input] == ["施策番号", "基本目標", "施策名", "指標・目標値", "前年度の評価・方向性"]
    assert [c.key for c in cols if c.input] == ["評価", "方向性", "実績値", "取組実績", "課題・今後の取組"]


def test_a_bare_master_gives_only_the_columns_it_has(tmp_path):
    loaded, _ = load(make_survey(tmp_path / "s", "2025", ["施策番号", "施策名", "基本方針", "所管課", "担当係"],
                                 [[1, "A", "Ⅰ", "課A", "とても長い係の名前がここに入ります"]]))
    cols = L.columns(loaded)
    assert [c.key for c in cols if not c.input] == ["施策番号", "group", "施策名", "担当係"]
    extra = cols[3]
    assert extra.wrap and extra.width == 20.0  # as wide as its text, at most 20


def test_widths_fit_the_page_and_keep_narrow_columns(s2025):
    cols = L.columns(s2025)
    got = L.widths(cols)
    assert sum(got) <= width_budget(True, L.MARGIN, L.MARGIN) + 0.01
    for c, w in zip(cols, got, strict=True):
        if not c.wrap:
            assert w == c.width, c.key
        else:
            assert w >= L._MIN_WIDTH.get(c.key, 18.0 if c.input else 10.0) - 0.01, c.key
    assert len(L.widths(cols, (30.0,))) == len(cols) + 1


@pytest.mark.parametrize(("measure", "indicator", "previous"), [
    (Measure("1", "A", "Ⅰ", "課A", 2, indicator="件数", unit="件", target="50"), "件数\n目標値：50件", ""),
    (Measure("1", "A", "Ⅰ", "課A", 2, indicator="件数", unit="件"), "件数（件）", ""),
    (Measure("1", "A", "Ⅰ", "課A", 2, target="50"), "目標値：50", ""),
    (Measure("1", "A", "Ⅰ", "課A", 2), "", ""),
    (Measure("1", "A", "Ⅰ", "課A", 2, previous_rating="A", previous_direction="事業拡大"), "", "A／事業拡大"),
    (Measure("1", "A", "Ⅰ", "課A", 2, previous_direction="完了"), "", "完了"),
])
def test_fixed_values(measure, indicator, previous):
    col = {k: L.Column(k, k, False, 10.0) for k in (S.COL_NUMBER, L.GROUP_KEY, S.COL_NAME, L.INDICATOR_KEY,
                                                    L.PREVIOUS_KEY, "担当係")}
    assert L.fixed_value(col[S.COL_NUMBER], measure) == "1"
    assert L.fixed_value(col[L.GROUP_KEY], measure) == "Ⅰ"
    assert L.fixed_value(col[S.COL_NAME], measure) == "A"
    assert L.fixed_value(col[L.INDICATOR_KEY], measure) == indicator
    assert L.fixed_value(col[L.PREVIOUS_KEY], measure) == previous
    assert L.fixed_value(col["担当係"], measure) == ""
    assert L.fixed_value(col["担当係"], Measure("1", "A", "Ⅰ", "課A", 2, extra=(("担当係", "係1"),))) == "係1"


def test_the_form_version_follows_what_the_department_sees(s2025):
    import dataclasses

    cols = L.columns(s2025)
    ms = s2025.measures_of("ICT推進課")
    v = L.form_version(s2025.survey, ms, cols)
    assert len(v) == 16 and v == L.form_version(s2025.survey, ms, cols)
    renamed = (dataclasses.replace(ms[0], name="別の名前"), *ms[1:])
    assert L.form_version(s2025.survey, renamed, cols) != v
    moved = (dataclasses.replace(ms[0], row=99), *ms[1:])
    assert L.form_version(s2025.survey, moved, cols) == v  # the master's row is not on the form
    assert L.form_version(dataclasses.replace(s2025.survey, deadline="明日"), ms, cols) == v


def test_file_names_never_collide(s2025):
    survey = s2025.survey
    names = L.file_names(survey, ["ICT推進課", "人事課"])
    assert names["ICT推進課"] == "令和3年度_ICT推進・活用計画2025 実績調査_ICT推進課.xlsx"
    case = L.file_names(survey, ["ABC課", "abc課"])
    assert len({n.casefold() for n in case.values()}) == 2
    assert all(n.endswith(".xlsx") and "_" in n[-12:] for n in case.values())
    long = L.file_names(survey, ["部" * 60 + "一課", "部" * 60 + "二課"])
    assert len(set(long.values())) == 2 and all(len(n.encode()) <= 160 for n in long.values())
    assert L.file_names(survey, ["部" * 60 + "一課", "部" * 60 + "二課"]) == long  # stable


def test_the_record_rows_and_properties(s2025):
    cols = L.columns(s2025)
    ms = s2025.measures_of("ICT推進課")
    rows = L.record_rows(s2025.survey, "ICT推進課", "v1", cols, ms)
    assert rows[:7] == [("mark", L.ID_MARK, L.ID_FORMAT), ("survey", "ict2025-jisseki", ""), ("fiscal_year", "2021", ""),
                        ("department", "ICT推進課", ""), ("form_version", "v1", ""), ("sheet", "調査票", ""),
                        ("header_row", "5", "")]
    assert rows[7] == ("column", "施策番号", "1") and rows[7 + len(cols) - 1][2] == str(len(cols))
    assert rows[7 + len(cols)] == ("measure", ms[0].number, "6")
    assert L.record_properties(s2025.survey, "ICT推進課", "v1") == {
        "xlsx_tool_survey": "ict2025-jisseki", "xlsx_tool_year": "2021", "xlsx_tool_department": "ICT推進課",
        "xlsx_tool_version": "v1", "xlsx_tool_sheet": "調査票"}


def sheet(rows: list[tuple]) -> dict:
    cells = {}
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            if value is not None:
                cells[(r, c)] = RawCell(float(value) if isinstance(value, int) else value,
                                        "n" if isinstance(value, int) else "s")
    return cells


def test_read_record_from_the_hidden_sheet(s2025):
    cols = L.columns(s2025)
    ms = s2025.measures_of("ICT推進課")
    rows = L.record_rows(s2025.survey, "ICT推進課", "v1", cols, ms)
    raw = RawWorkbook(cells={ID_SHEET: sheet(rows + [("note", "x", "y", "ignored fourth")])})
    rec = L.read_record(raw)
    assert (rec.survey, rec.fiscal_year, rec.department, rec.version, rec.sheet, rec.header_row) == (
        "ict2025-jisseki", "2021", "ICT推進課", "v1", "調査票", 5)
    assert rec.columns == {c.key: i for i, c in enumerate(cols, 1)}
    assert rec.measures == tuple(m.number for m in ms) and not rec.from_properties


@pytest.mark.parametrize(("header", "expected"), [("5", 5), ("0", None), ("1", 1), ("1001", None), ("五", None), ("1000", 1000)])
def test_read_record_header_row_hint_is_bounded(header, expected):
    raw = RawWorkbook(cells={ID_SHEET: sheet([("mark", L.ID_MARK), ("survey", "s"), ("header_row", header)])})
    assert L.read_record(raw).header_row == expected


def test_a_record_with_only_its_mark_and_survey_leaves_the_rest_empty():
    # rows deleted from the hidden sheet: the form still reads as the survey's, with nothing else known
    rec = L.read_record(RawWorkbook(cells={ID_SHEET: sheet([("mark", L.ID_MARK), ("survey", "s")])}))
    assert (rec.survey, rec.fiscal_year, rec.department, rec.version, rec.sheet, rec.header_row) == (
        "s", "", "", "", "", None)
    assert rec.columns == {} and rec.measures == () and not rec.from_properties
    rec = L.read_record(RawWorkbook(custom={"xlsx_tool_survey": "s"}))
    assert (rec.survey, rec.fiscal_year, rec.department, rec.version, rec.sheet) == ("s", "", "", "", "")
    assert rec.from_properties


def test_read_record_first_value_of_a_kind_wins_and_letters_are_columns():
    raw = RawWorkbook(cells={ID_SHEET: sheet([("mark", L.ID_MARK), ("survey", "s1"), ("survey", "s2"),
                                              ("column", "評価", "F"), ("column", "実績値", "AA"), ("column", "x", "0"),
                                              ("column", "y", "16385"), ("column", "z", "ab"), ("department", 12)])})
    rec = L.read_record(raw)
    assert rec.survey == "s1" and rec.department == "12"
    assert rec.columns == {"評価": 6, "実績値": 27}


def test_read_record_falls_back_to_the_document_properties():
    props = {"xlsx_tool_survey": "s", "xlsx_tool_year": "2021", "xlsx_tool_department": "課A",
             "xlsx_tool_version": "v", "xlsx_tool_sheet": "調査票"}
    for cells in ({}, {ID_SHEET: sheet([("mark", "other-tool"), ("survey", "s")])}, {ID_SHEET: sheet([("mark", L.ID_MARK)])}):
        rec = L.read_record(RawWorkbook(cells=cells, custom=props))
        assert (rec.survey, rec.fiscal_year, rec.department, rec.version, rec.sheet, rec.from_properties) == (
            "s", "2021", "課A", "v", "調査票", True)
        assert rec.header_row is None and rec.columns == {} and rec.measures is None
    assert L.read_record(RawWorkbook(custom={"xlsx_tool_survey": ""})) is None
    assert L.read_record(RawWorkbook()) is None


def form_cells(cols, header_row=5, order=None, extra_rows=()):
    headers = [c.header for c in cols]
    if order:
        headers = order
    rows = [("タイトル",), ("所管課：ICT推進課",), ("記入者", None, "山田 太郎", "内線", None, "2021"), ()]
    rows += [()] * (header_row - 5)
    rows.append(tuple(headers))
    rows += list(extra_rows)
    return sheet(rows)


def test_locate_finds_every_column_where_the_form_put_it(s2025):
    cols = L.columns(s2025)
    loc = L.locate(form_cells(cols), cols, None)
    assert loc.header_row == 5 and loc.usable
    assert loc.columns == {c.key: i for i, c in enumerate(cols, 1)}
    assert (loc.missing, loc.doubled, loc.missing_fixed, loc.unknown, loc.moved) == ([], [], [], [], False)
    assert loc.respondent == {"記入者": "山田 太郎", "内線": "2021"}


def test_locate_follows_moved_and_inserted_columns(s2025):
    cols = L.columns(s2025)
    headers = [c.header for c in cols]
    moved = headers[:5] + ["メモ"] + [headers[6], headers[5]] + headers[7:]  # a column inserted, two swapped
    rec = L.FormRecord("s", "2021", "ICT推進課", header_row=5, columns={c.key: i for i, c in enumerate(cols, 1)})
    loc = L.locate(form_cells(cols, order=moved), cols, rec)
    assert loc.usable and loc.moved
    assert (loc.columns["評価"], loc.columns["実績値"]) == (8, 7)
    assert loc.unknown == [(6, "メモ")]
    unmoved = L.locate(form_cells(cols), cols, rec)
    assert not unmoved.moved


def test_locate_names_missing_and_doubled_columns(s2025):
    cols = L.columns(s2025)
    headers = [c.header for c in cols]
    no_rating = [h if h != "評価\n（必須）" else "" for h in headers]
    loc = L.locate(form_cells(cols, order=no_rating), cols, None)
    assert loc.missing == ["評価\n（必須）"] and not loc.usable
    no_name = [h if h != "施策名" else "" for h in headers]
    loc = L.locate(form_cells(cols, order=no_name), cols, None)
    assert loc.missing_fixed == ["施策名"] and loc.usable
    twice = headers + ["評価"]
    loc = L.locate(form_cells(cols, order=twice), cols, None)
    assert loc.doubled == [("評価\n（必須）", [6, len(headers) + 1])] and not loc.usable
    number_twice = headers + ["施策 番号"]
    assert L.locate(form_cells(cols, order=number_twice), cols, None).doubled[0][0] == "施策番号"
    fixed_twice = headers + ["施策名"]
    loc = L.locate(form_cells(cols, order=fixed_twice), cols, None)
    assert loc.doubled == [] and "施策名" not in loc.columns and loc.usable


def test_locate_header_spellings(s2025):
    cols = L.columns(s2025)
    spelt = ["施策番号", "基本方針", "施策名", "指標・目標値", "前年度評価", "評価(必須)", "実績値※", "取組実績 *", "課題・今後の取組"]
    loc = L.locate(form_cells(cols, order=spelt), cols, None)
    assert loc.usable and loc.missing_fixed == []


def test_locate_uses_the_recorded_header_row_among_candidates(s2025):
    cols = L.columns(s2025)
    cells = form_cells(cols, header_row=8)
    cells[(6, 1)] = RawCell("施策番号", "s")  # a stray copy of the header text above the table
    assert L.locate(cells, cols, None).header_row == 6
    rec = L.FormRecord("s", "2021", "x", header_row=8)
    assert L.locate(cells, cols, rec).header_row == 8
    wrong_hint = L.FormRecord("s", "2021", "x", header_row=7)
    assert L.locate(cells, cols, wrong_hint).header_row == 6


def test_locate_looks_for_the_header_in_the_top_rows_only(s2025):
    cols = L.columns(s2025)
    assert L.locate(form_cells(cols, header_row=30), cols, None).header_row == 30
    assert L.locate(form_cells(cols, header_row=31), cols, None).header_row == 0
    assert not L.locate({}, cols, None).usable


def test_a_long_text_is_no_header(s2025):
    cols = L.columns(s2025)
    cells = {(5, 1): RawCell("施策番号" + "あ" * 77, "s")}
    assert L.locate(cells, cols, None).header_row == 0
    cells = {(5, 1): RawCell(" 施策番号 " + " " * 70, "s")}
    assert L.locate(cells, cols, None).header_row == 5


@pytest.mark.parametrize(("row", "found"), [
    (("記入者", "山田"), {"記入者": "山田"}),
    (("記入者", None, "山田"), {"記入者": "山田"}),
    (("記入者", None, None, "山田"), {"記入者": ""}),  # three columns away: not its value
    (("記入者", "内線", "2021"), {"記入者": "", "内線": "2021"}),  # a label is not a value
    (("記 入 者：", "山田"), {}),
    (("記入者 ", "山田" * 60), {"記入者": "山田" * 50}),
    (("内線", 2021), {"内線": "2021"}),
])
def test_the_respondent_is_the_first_value_right_of_its_label(row, found):
    assert L._respondent(sheet([row]), 5) == found


def test_the_respondent_skips_error_cells_and_rows_below_the_header():
    cells = {(1, 1): RawCell("記入者", "s"), (1, 2): RawCell("#REF!", "e"), (1, 3): RawCell("山田", "s"),
             (6, 1): RawCell("内線", "s"), (6, 2): RawCell("9", "s")}
    assert L._respondent(cells, 5) == {"記入者": "山田"}
    cells[(2, 1)] = RawCell("記入者", "s")
    cells[(2, 2)] = RawCell("鈴木", "s")
    assert L._respondent(cells, 5) == {"記入者": "山田"}  # the first label wins


def test_respondent_cells_sit_under_the_name_column(s2025):
    cols = L.columns(s2025)
    assert L.respondent_cells(cols) == {"記入者": (0, 2), "内線": (3, 4)}


@pytest.mark.parametrize(("row", "col", "ref"), [(1, 1, "A1"), (7, 8, "H7"), (1, 26, "Z1"), (1, 27, "AA1"),
                                                 (3, 52, "AZ3"), (1, 16384, "XFD1")])
def test_cell_ref(row, col, ref):
    assert L.cell_ref(row, col) == ref


@pytest.mark.parametrize(("text", "number"), [("3", 3), ("16384", 16384), ("16385", None), ("0", None), ("C", 3),
                                              ("AA", 27), ("XFD", 16384), ("ABCD", None), ("c", None), ("", None)])
def test_recorded_column_numbers(text, number):
    assert L._column_number(text) == number


@pytest.mark.parametrize(("text", "key"), [("評価\n（必須）", "評価"), ("評価(必須)", "評価"), ("実績値※", "実績値"),
                                           ("取組実績 *", "取組実績"), ("ＡＢＣ", "abc"), (None, ""), (5, "5")])
def test_header_key(text, key):
    assert L.header_key(text) == key


def test_at():
    cells = {(2, 3): RawCell("x", "s")}
    assert L.at(cells, 2, 3) == RawCell("x", "s")
    assert L.at(cells, 2, None) is None and L.at(cells, 2, 0) is None and L.at(cells, 2, 4) is None


@pytest.mark.parametrize(("col", "letters"), [(1, "A"), (8, "H"), (26, "Z"), (27, "AA"), (52, "AZ"), (703, "AAA"), (16384, "XFD")])
def test_column_letters(col, letters):
    assert L.column_letters(col) == letters
    assert L.cell_ref(7, col) == f"{letters}7"


def test_header_texts_of_one_to_eighty_characters_count_longer_ones_are_answers(s2025):
    cols = L.columns(s2025)
    headers = [c.header for c in cols]
    extra = headers + ["備", "長" * L.HEADER_MAX, "長" * (L.HEADER_MAX + 1), ""]
    loc = L.locate(form_cells(cols, order=extra), cols, None)
    n = len(headers)
    assert loc.unknown == [(n + 1, "備"), (n + 2, "長" * L.HEADER_MAX)]  # the 81 and the empty one are no headers
    assert loc.usable


def test_the_respondent_is_looked_for_above_the_table_only(s2025):
    cols = L.columns(s2025)
    headers = [c.header for c in cols]
    # a number above the labels does not end the search; a 記入者 column in the table is not the respondent
    above = sheet([("タイトル", 2021), (), ("記入者", None, "山田 太郎", "内線", None, "2021"), (), tuple(headers)])
    assert L.locate(above, cols, None).respondent == {"記入者": "山田 太郎", "内線": "2021"}
    in_table = sheet([("タイトル",), (), (), (), tuple(headers) + ("記入者", "メモ")])
    assert L.locate(in_table, cols, None).respondent == {}
