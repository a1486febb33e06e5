"""The form's layout (forms/layout.py) on its own: the columns a master gives, the text of
fixed cells, the identification record, and finding columns and the respondent again in a
returned sheet given as raw cells (as the reader hands them over)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.survey_helpers import make_survey
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Measure, load
from xlsx_tool.define.survey import Field, Scale, ScaleValue
from xlsx_tool.forms import layout as L
from xlsx_tool.intake.reader import ID_SHEET, RawCell, RawWorkbook
from xlsx_tool.textnorm import display_width
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
    # the reason for a changed rating beside the rating it explains
    assert [c.key for c in cols if c.input] == ["評価", "方向性", "評価の変更理由", "実績値", "取組実績", "課題・今後の取組"]


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
    assert sum(got) <= width_budget(True, L.MARGIN, L.MARGIN)  # rounding never pushes it over
    for c, w in zip(cols, got, strict=True):
        if not c.wrap:
            assert w == c.width, c.key
        else:
            assert w >= L._MIN_WIDTH.get(c.key, 18.0 if c.input else 10.0) - 0.01, c.key
    assert len(L.widths(cols, (30.0,))) == len(cols) + 1


# --- column widths: the design table --------------------------------------------------------
# Each sized column fits its widest value, or half its widest header line + 1 when the header
# is wider (a header may wrap once, so half of it is enough), plus 2 of padding, kept within
# the column's bounds (lo, hi):
WIDTH_RULES = {
    "number": (6, 10, "施策番号 shows the longest measure number in full; its header wraps after 施策, "
                      "so 番号 is its widest line"),
    "group": (6, 10, "the group id (Ⅰ, ①, 計画に関する進捗管理) in full up to a narrow column, under the group label"),
    "extra": (8, 20, "an extra master column (担当係 …) shows its longest value, wrapping past 20"),
    "choice": (8, 16, "the dropdown's longest selectable value reads in full; the header carries （必須） "
                      "on its own line whether or not the field is required"),
    "short text": (14, 24, "a text of at most 100 characters: room for a phrase, wrapping"),
    "number field": (10, 14, "a number: nine digits in full"),
}
# Fixed widths: 施策名 24 and 指標・目標値 22 (they wrap), 前年度評価 11 (「達成／事業拡大」 on two
# lines), a text allowed more than 100 characters 44 (the answer column); a field's own `width`
# wins over every rule.
FIXED_WIDTHS = {S.COL_NAME: 24.0, L.INDICATOR_KEY: 22.0, L.PREVIOUS_KEY: 11.0, "long text": 44.0}
# What a wrapping column may give up to fit the page, down to: the rest keep their width.
FLOORS = {S.COL_NAME: 16.0, L.INDICATOR_KEY: 14.0, L.PREVIOUS_KEY: 9.0, "input": 18.0, "fixed": 10.0,
          "appended": 18.0}


def rule_width(header: str, values: list[str], rule: str) -> float:
    lo, hi, _why = WIDTH_RULES[rule]
    widest = max([max(display_width(line) for line in header.split("\n")) // 2 + 1,
                  *(display_width(v) for v in values)])
    return float(min(max(widest + 2, lo), hi))


def survey_with(folder, label: str, scale: list[str], fields: list[dict], header: list[str], rows: list[list]):
    """A 2025 survey whose group label, 評価 scale and fields are the given ones."""
    def toml(value):
        return f'"{value}"' if isinstance(value, str) else str(value).lower()

    def edit(text: str) -> str:
        text = text.replace('group_label = "基本方針"', f'group_label = "{label}"')
        values = ", ".join(f"{{ value = {toml(v)} }}" for v in scale)
        defs = "".join("\n[[fields]]\n" + "".join(f"{k} = {toml(v)}\n" for k, v in f.items()) for f in fields)
        return text[:text.index("[[groups]]")] + f'[scales."評価"]\nvalues = [{values}]\n{defs}\n' + text[text.index("# メール"):]

    loaded, problems = load(make_survey(folder, "2025", header, rows, toml_edit=edit))
    assert loaded is not None, problems
    return loaded


NARROW_FIELDS = [
    {"name": "評価", "type": "choice", "required": True},  # 評価 A / B / C: narrower than its header
    {"name": "件数", "type": "number"},
    {"name": "備考", "type": "text", "max_length": 100},  # exactly 100: still a short text
    {"name": "所見", "type": "text", "max_length": 101},  # over 100: the wide answer column
    {"name": "単価", "type": "number", "width": 30},  # its own width, wider than any rule gives
]
LONG_TEXT_NAME = "課題及び今後の取組方針並びに来年度に向けた改善点"  # 48 wide: half is past 24
LONG_NUMBER_NAME = "実績値（単位は指標の欄に記載のとおり）"
WIDE_FIELDS = [
    {"name": "評価", "type": "choice", "required": True},
    {"name": LONG_TEXT_NAME, "type": "text", "max_length": 50},
    {"name": LONG_NUMBER_NAME, "type": "number"},
    {"name": "取組実績", "type": "text", "max_length": 400},
]


@pytest.fixture(scope="module")
def narrow(tmp_path_factory):
    """Short numbers, a short group label, a choice of one letter, 前年度方向性 without 前年度評価,
    an extra column with short values and one with long ones."""
    return survey_with(tmp_path_factory.mktemp("narrow") / "s", "方針", ["A", "B", "C"], NARROW_FIELDS,
                       ["施策番号", "施策名", "方針", "所管課", "前年度方向性", "係", "実施内容"],
                       [[1, "施策A", "Ⅰ", "課A", "継続", "A", "庁内の会議室すべてに会議用端末を配備"],
                        [2, "施策B", "Ⅱ", "課A", "", "", "端末"]])


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """Long measure numbers and groups, a long choice value, long field names, an indicator, and
    an extra column whose header (with a space) is wider than its values."""
    return survey_with(tmp_path_factory.mktemp("wide") / "s", "基本方針", ["計画どおりに推進中", "見直し"],
                       WIDE_FIELDS,
                       ["施策番号", "施策名", "基本方針", "所管課", "指標", "前年度評価", "担当係の 連絡先メモ"],
                       [["10-20-300", "施策A", "計画に関する進捗管理", "課A", "件数", "見直し", "A"],
                        [7, "施策B", "① 行政運営の効率化", "課A", "", "", "B"]])


def test_column_widths_of_a_varied_master_follow_the_design_table(narrow, wide):
    expected = {
        S.COL_NUMBER: rule_width("番号", ["1", "2"], "number"),  # the lower bound: 6
        L.GROUP_KEY: rule_width("方針", ["Ⅰ", "Ⅱ"], "group"),  # the lower bound: 6
        S.COL_NAME: FIXED_WIDTHS[S.COL_NAME],
        L.PREVIOUS_KEY: FIXED_WIDTHS[L.PREVIOUS_KEY],
        "係": rule_width("係", ["A", ""], "extra"),  # the lower bound: 8
        "実施内容": rule_width("実施内容", ["庁内の会議室すべてに会議用端末を配備", "端末"], "extra"),  # the upper: 20
        "評価": rule_width("評価\n（必須）", ["A", "B", "C"], "choice"),  # the header's lines: 8
        "件数": rule_width("件数", ["000000000"], "number field"),  # nine digits: 11
        "備考": rule_width("備考", [], "short text"),  # the lower bound: 14
        "所見": FIXED_WIDTHS["long text"],
        "単価": 30.0,
    }
    assert {c.key: c.width for c in L.columns(narrow)} == expected
    assert [c.header for c in L.columns(narrow)][3] == "前年度の評価・方向性"  # 前年度方向性 alone is shown too
    expected = {
        S.COL_NUMBER: rule_width("番号", ["10-20-300", "7"], "number"),  # the upper bound: 10
        L.GROUP_KEY: rule_width("基本方針", ["計画に関する進捗管理", "①"], "group"),  # the upper: 10
        S.COL_NAME: FIXED_WIDTHS[S.COL_NAME],
        L.INDICATOR_KEY: FIXED_WIDTHS[L.INDICATOR_KEY],
        L.PREVIOUS_KEY: FIXED_WIDTHS[L.PREVIOUS_KEY],
        # the header, 19 wide with a space in it, is wider than the values: half of it, 12
        "担当係の 連絡先メモ": rule_width("担当係の 連絡先メモ", ["A", "B"], "extra"),
        "評価": rule_width("評価\n（必須）", ["計画どおりに推進中", "見直し"], "choice"),  # the upper: 16
        LONG_TEXT_NAME: rule_width(LONG_TEXT_NAME, [], "short text"),  # the upper: 24
        LONG_NUMBER_NAME: rule_width(LONG_NUMBER_NAME, ["000000000"], "number field"),  # the upper: 14
        "取組実績": FIXED_WIDTHS["long text"],
    }
    assert {c.key: c.width for c in L.columns(wide)} == expected


def test_the_design_table_is_reached_at_every_bound(narrow, wide):
    # the cases above are chosen so that each bound and the header's half decide some column
    by = {**{c.key: c.width for c in L.columns(narrow)}, **{("w", c.key): c.width for c in L.columns(wide)}}
    assert (by[S.COL_NUMBER], by[("w", S.COL_NUMBER)]) == (6.0, 10.0)
    assert (by[L.GROUP_KEY], by[("w", L.GROUP_KEY)]) == (6.0, 10.0)
    assert (by["係"], by["実施内容"], by[("w", "担当係の 連絡先メモ")]) == (8.0, 20.0, 12.0)
    assert (by["評価"], by[("w", "評価")]) == (8.0, 16.0)
    assert (by["備考"], by[("w", LONG_TEXT_NAME)]) == (14.0, 24.0)
    assert (by["件数"], by[("w", LONG_NUMBER_NAME)]) == (11.0, 14.0)


def floor_of(c: L.Column) -> float:
    if not c.wrap:
        return c.width  # numbers, choices, a field's own width: never narrower than they ask
    return FLOORS.get(c.key, FLOORS["input" if c.input else "fixed"])


def test_wrapping_columns_give_up_width_in_proportion_to_fit_the_page(narrow):
    cols = L.columns(narrow)
    budget = width_budget(True, L.MARGIN, L.MARGIN)
    assert sum(c.width for c in cols) > budget  # 182 wanted: too wide for one A4 page
    got = L.widths(cols)
    assert budget - 0.1 * len(cols) <= sum(got) <= budget  # the whole page, each cut rounded up to 0.1
    given = []  # (width given up, width it had above its floor)
    for c, w in zip(cols, got, strict=True):
        floor = floor_of(c)
        if c.width <= floor:
            assert w == c.width, c.key  # 単価 keeps its 30, 備考 (14) and 係 (8) are under their floors
        else:
            assert floor < w < c.width, c.key
            given.append((c.width - w, c.width - floor))
    assert len(given) == 4  # 施策名, 前年度, 実施内容, 所見
    # each gives the same part of what it has above its floor (up to rounding to 0.1)
    share = sum(g for g, _ in given) / sum(room for _, room in given)
    assert all(abs(g - share * room) <= 0.06 for g, room in given), (share, given)


def test_a_form_too_wide_even_at_the_floors_keeps_every_wrapping_column_at_its_floor(narrow):
    # a correction form appends its 修正理由 column (30): now even the floors are wider than the page
    cols = L.columns(narrow)
    got = L.widths(cols, (30.0, 12.0))
    assert got == [min(c.width, floor_of(c)) for c in cols] + [FLOORS["appended"], 12.0]
    assert got[cols.index(next(c for c in cols if c.key == "単価"))] == 30.0


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
    cols = L.columns(s2025)
    ms = s2025.measures_of("ICT推進課")
    v = L.form_version(s2025.survey, ms, cols)
    assert len(v) == 16 and v == L.form_version(s2025.survey, ms, cols)
    renamed = (dataclasses.replace(ms[0], name="別の名前"), *ms[1:])
    assert L.form_version(s2025.survey, renamed, cols) != v
    moved = (dataclasses.replace(ms[0], row=99), *ms[1:])
    assert L.form_version(s2025.survey, moved, cols) == v  # the master's row is not on the form
    assert L.form_version(dataclasses.replace(s2025.survey, deadline="明日"), ms, cols) == v


def test_the_form_version_of_the_same_form_is_the_same_in_every_release(s2025):
    # collect compares the version a returned form carries with the one computed now, and calls a
    # differing form 旧版 (「施策マスタまたは調査定義が変わる前に作った版です」). Forms sent out before
    # an upgrade of the tool must not all turn 旧版 afterwards: the same definition, measures and
    # columns give this value, whichever release computes it. Change it only on purpose.
    survey = dataclasses.replace(
        s2025.survey, id="golden", fiscal_year=2021, input_sheet="調査票",
        fields=(Field("評価", "choice", True, "評価"), Field("取組実績", "text", max_length=400)),
        scales={"評価": Scale("評価", (ScaleValue("達成", "計画どおり"), ScaleValue("未達成")))})
    measures = (Measure("1", "Web会議の推進", "Ⅰ", "ICT推進課", 2, indicator="実施回数", unit="回", target="500"),
                Measure("2", "オンライン申請の拡大", "Ⅲ", "ICT推進課", 3, previous_rating="未達成"))
    cols = (L.Column(S.COL_NUMBER, S.COL_NUMBER, False, 6.0), L.Column(L.GROUP_KEY, "基本方針", False, 6.0),
            L.Column(S.COL_NAME, S.COL_NAME, False, 24.0, True),
            L.Column(L.INDICATOR_KEY, "指標・目標値", False, 22.0, True),
            L.Column(L.PREVIOUS_KEY, "前年度評価", False, 11.0, True),
            L.Column("評価", "評価\n（必須）", True, 8.0), L.Column("取組実績", "取組実績", True, 44.0, True))
    assert L.form_version(survey, measures, cols) == "8bb243b7a09b7e1f"


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


def test_clashing_file_names_keep_the_survey_and_the_department_before_their_mark(s2025):
    survey = s2025.survey
    start = f"{survey.year_label}_{survey.title}_"  # 56 bytes in UTF-8
    one, two, three = ("D" * 150 + n for n in "123")  # the same name up to 150 bytes
    names = L.file_names(survey, [one, two])
    for d, name in names.items():
        # the name is cut to 140 bytes (the department's first 84 letters here), then marked, so the
        # marked stem stays inside the 150 bytes of every file name
        assert re.fullmatch(re.escape(start + d[:140 - len(start.encode())]) + r"_[0-9a-f]{6}\.xlsx", name), name
        assert len(name.encode()) == 140 + 7 + len(".xlsx")
    assert names[one] != names[two]
    # the mark depends on the department alone: another clashing department changes no one's name
    assert L.file_names(survey, [one, three])[one] == names[one]
    case = L.file_names(survey, ["ABC課", "abc課"])
    assert re.fullmatch(re.escape(start) + r"ABC課_[0-9a-f]{6}\.xlsx", case["ABC課"])
    assert re.fullmatch(re.escape(start) + r"abc課_[0-9a-f]{6}\.xlsx", case["abc課"])


def test_the_record_rows_and_properties(s2025):
    cols = L.columns(s2025)
    ms = s2025.measures_of("ICT推進課")
    rows = L.record_rows(s2025.survey, "ICT推進課", "v1", cols, ms)
    assert rows[:7] == [("mark", L.ID_MARK, L.ID_FORMAT), ("survey", "ict2025-jisseki", ""), ("fiscal_year", "2021", ""),
                        ("department", "ICT推進課", ""), ("form_version", "v1", ""), ("sheet", "調査票", ""),
                        ("header_row", "5", "")]
    assert rows[7] == ("column", "施策番号", "1") and rows[7 + len(cols) - 1][2] == str(len(cols))
    assert rows[7 + len(cols)] == ("measure", ms[0].number, "6", ms[0].name)  # the name it shows, as evidence
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
    (("記入者", None, None, "山田"), {"記入者": "山田"}),  # a column inserted between label and input
    (("記入者", None, None, None, "山田"), {"記入者": ""}),  # four columns away: not its value
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
