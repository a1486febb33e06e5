"""Validation (collect/validate.py) on forms held in memory: the identification record and the
input sheet are built from the layout as the reader would hand them over, then changed the
way a clerk might. Every decision is checked by its problem code, position and answer."""

from __future__ import annotations

import math

import pytest

from tests.survey_helpers import make_survey
from xlsx_tool.collect import validate as V
from xlsx_tool.collect.validate import Submission, check_submission
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import load
from xlsx_tool.forms import layout as L
from xlsx_tool.intake.reader import ID_SHEET, RawCell, RawWorkbook

DEPT = "情報政策課"  # measures 1, 2 and 3 (3 ended: 前年度方向性 完了); 区民課 has 4


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    loaded, problems = load(make_survey(tmp_path_factory.mktemp("v") / "s", "2020"))
    assert loaded is not None, problems
    return loaded


def text(value) -> RawCell:
    return RawCell(value, "s")


def form(loaded, department=DEPT, answers=None, version=None, headers=None, record=True, extra_rows=(),
         properties=False) -> RawWorkbook:
    """The raw workbook of a form filled with `answers` {number: {field: RawCell}}."""
    survey = loaded.survey
    cols = L.columns(loaded)
    measures = loaded.measures_of(department)
    version = version if version is not None else L.form_version(survey, measures, cols)
    sheet: dict = {(3, 1): text("記入者"), (3, 3): text("山田"), (3, 4): text("内線"), (3, 6): text("2021")}
    for c, h in enumerate(headers or [col.header for col in cols], 1):
        if h:
            sheet[(5, c)] = text(h)
    for i, m in enumerate(measures):
        row = 6 + i
        for c, col in enumerate(cols, 1):
            if not col.input:
                value = L.fixed_value(col, m)
                if value:
                    sheet[(row, c)] = text(value)
            elif answers and m.number in answers and col.key in answers[m.number]:
                sheet[(row, c)] = answers[m.number][col.key]
    for row, values in extra_rows:
        for c, value in values.items():
            sheet[(row, c)] = value
    cells = {survey.input_sheet: sheet}
    custom = {}
    if record:
        rows = L.record_rows(survey, department, version, cols, measures)
        cells[ID_SHEET] = {(r, c): text(v) for r, row in enumerate(rows, 1) for c, v in enumerate(row, 1) if v}
    if properties:
        custom = L.record_properties(survey, department, version)
    return RawWorkbook(sha256="h", size=10, sheets=[(n, "visible") for n in cells], cells=cells, custom=custom,
                       modified="2022-05-09T01:00:00Z")


def good_answers(loaded) -> dict:
    # both ratings differ from 前年度評価 (B, A): the 2020 template asks why
    return {"1": {"評価": text("A"), "方向性": text("計画どおり推進"), "実績値": RawCell(12.0, "n"), "取組実績": text("実施した"),
                  "評価の変更理由": text("新システムの運用を開始した")},
            "2": {"評価": text("B"), "方向性": text("事業拡大"), "取組実績": text("一部実施"),
                  "評価の変更理由": text("利用者数が目標に届かなかった")},
            "3": {"評価": text("終了"), "方向性": text("完了")}}


def check(loaded, raw, **kw) -> Submission:
    return check_submission(loaded, raw, "返却.xlsx", "2022-05-10T09:00:00+09:00", **kw)


def codes(sub: Submission) -> list[tuple[str, str, str]]:
    return [(p.code, p.cell, p.measure) for p in sub.problems]


def test_a_well_filled_form(loaded):
    sub = check(loaded, form(loaded, answers=good_answers(loaded)))
    assert sub.problems == []
    assert (sub.identified, sub.department, sub.file, sub.sha256, sub.size, sub.saved_at, sub.mtime) == (
        True, DEPT, "返却.xlsx", "h", 10, "2022-05-09T01:00:00Z", "2022-05-10T09:00:00+09:00")
    assert sub.answers == {"1": {"評価": "A", "方向性": "計画どおり推進", "評価の変更理由": "新システムの運用を開始した",
                                 "実績値": 12, "取組実績": "実施した"},
                           "2": {"評価": "B", "方向性": "事業拡大", "評価の変更理由": "利用者数が目標に届かなかった",
                                 "取組実績": "一部実施"},
                           "3": {"評価": "終了", "方向性": "完了"}}
    assert sub.invalid == set() and sub.respondent == {"記入者": "山田", "内線": "2021"}
    assert sub.typed["1"] == {"評価": "A", "方向性": "計画どおり推進", "評価の変更理由": "新システムの運用を開始した",
                              "実績値": 12.0, "取組実績": "実施した"}
    assert (sub.errors, sub.warnings) == (0, 0)


def test_a_read_failure_is_the_files_only_problem(loaded):
    sub = check(loaded, RawWorkbook(failure="encrypted", detail=""))
    assert [p.code for p in sub.problems] == ["encrypted"] and not sub.identified
    timeout = check(loaded, RawWorkbook(failure="reader-timeout", detail="60"))
    assert timeout.problems[0].message == "読み込みが 60 秒を超えたため中止しました。配布した調査票に入力して再提出してください。"
    broken = check(loaded, RawWorkbook(failure="corrupt", detail="ZIP 形式として壊れています"))
    assert broken.problems[0].message == "ファイルが壊れているため読み込めません（ZIP 形式として壊れています）。保存し直して再提出してください。"


def test_identification(loaded):
    assert codes(check(loaded, form(loaded, record=False))) == [("not-a-form", "", "")]
    raw = form(loaded)
    raw.cells[ID_SHEET][(2, 2)] = text("other-survey")
    sub = check(loaded, raw)
    assert [p.code for p in sub.problems] == ["other-survey"] and "other-survey" in sub.problems[0].message
    for year, shown in (("2020", "令和2年度"), ("abc", "「abc」年度"), ("1800", "「1800」年度"), ("1900", "「1900」年度"),
                        ("1901", "1901年度"), ("2299", "令和281年度"), ("2300", "「2300」年度")):
        raw = form(loaded)
        raw.cells[ID_SHEET][(3, 2)] = text(year)
        sub = check(loaded, raw)
        assert [p.code for p in sub.problems] == ["other-year"] and shown in sub.problems[0].message
        assert "令和3年度" in sub.problems[0].message
    raw = form(loaded, record=False, properties=True)
    raw.custom[f"{L.PROPERTY_PREFIX}department"] = "存在しない課"  # and nothing tells its measures
    sub = check(loaded, raw)
    assert [p.code for p in sub.problems] == ["unknown-department"] and not sub.identified
    assert sub.problems[0].message == "所管課「存在しない課」は施策マスタにありません。配布した調査票か確認してください。"


def test_a_renamed_department_is_found_by_its_measures(loaded):
    # 組織改正: the form names a department the master no longer has; its measures are all 情報政策課's now
    raw = form(loaded, answers=good_answers(loaded))
    raw.cells[ID_SHEET][(4, 2)] = text("旧情報システム課")
    sub = check(loaded, raw)
    assert (sub.identified, sub.department) == (True, DEPT)
    (p,) = sub.problems
    assert (p.code, p.severity, p.department) == ("department-renamed", "warning", DEPT)
    assert "「旧情報システム課」" in p.message and f"「{DEPT}」の提出として読み取りました" in p.message
    assert sub.answers["1"]["評価"] == "A"
    # a form whose measures now belong to two departments is nobody's
    raw = form(loaded, answers=good_answers(loaded))
    raw.cells[ID_SHEET][(4, 2)] = text("旧情報システム課")
    at = next(r for (r, c), cell in raw.cells[ID_SHEET].items() if c == 1 and cell.value == "measure")
    raw.cells[ID_SHEET][(at, 2)] = text("4")  # measure 4 is 区民課's
    sub = check(loaded, raw)
    assert [p.code for p in sub.problems] == ["department-split"] and not sub.identified
    assert "「区民課」" in sub.problems[0].message and f"「{DEPT}」" in sub.problems[0].message


def test_identified_by_the_document_properties_alone(loaded):
    sub = check(loaded, form(loaded, record=False, properties=True, answers=good_answers(loaded)))
    assert sub.identified and sub.problems == [] and sub.answers["1"]["評価"] == "A"


def test_a_form_known_by_its_properties_takes_its_measures_from_the_ledger(loaded):
    # no _id sheet: which measures the form had comes from the ledger's record of what was sent
    raw = form(loaded, record=False, properties=True, answers=good_answers(loaded))
    for key in [k for k in raw.cells[loaded.survey.input_sheet] if k[0] == 7]:
        del raw.cells[loaded.survey.input_sheet][key]  # measure 2's row is not there
    version = raw.custom[f"{L.PROPERTY_PREFIX}version"]
    sent = {DEPT: {version: ["1", "3"]}}
    assert [p.code for p in check(loaded, raw, versions=sent).problems] == ["measure-added-after-form"]
    assert [p.code for p in check(loaded, raw, versions={"区民課": {version: ["1", "3"]}}).problems] == [
        "measure-missing"]


def test_an_old_form_version(loaded):
    sub = check(loaded, form(loaded, version="0123456789abcdef", answers=good_answers(loaded)))
    assert [p.code for p in sub.problems] == ["old-form"] and sub.form_version == "0123456789abcdef"
    assert check(loaded, form(loaded, version="", answers=good_answers(loaded))).problems == []


def test_the_input_sheet_is_found_by_the_record_else_by_the_definition(loaded):
    raw = form(loaded, answers=good_answers(loaded))
    raw.cells["回答"] = raw.cells.pop(loaded.survey.input_sheet)
    sub = check(loaded, raw)
    assert codes(sub) == [("missing-sheet", "", "")] and sub.invalid == {"1", "2", "3"}
    assert (sub.problems[0].sheet, sub.problems[0].message) == (
        "調査票", "シート「調査票」がありません。シート名を変更・削除せず、配布した調査票に入力して再提出してください。")
    raw.cells[ID_SHEET][(6, 2)] = text("回答")  # the record names the sheet it was renamed to
    assert check(loaded, raw).problems == []
    back = form(loaded, answers=good_answers(loaded))
    back.cells[ID_SHEET][(6, 2)] = text("消えたシート")  # the record names a sheet that is gone: the definition's
    assert check(loaded, back).problems == []


def test_layout_changed_says_what(loaded):
    cols = L.columns(loaded)
    headers = [c.header for c in cols]
    sub = check(loaded, form(loaded, headers=[""] * len(headers)))
    (p,) = sub.problems
    tail = "。列の追加・削除・見出しの変更をせず、配布した調査票に入力して再提出してください。"
    assert (p.code, p.sheet) == ("layout-changed", "調査票")
    assert p.message == "列の構成が変わっているため読み取れません（見出し行（「施策番号」の列）が見つかりません）" + tail
    assert sub.invalid == {"1", "2", "3"}
    no_rating = [h if h.split("\n")[0] not in ("評価", "方向性") else "" for h in headers]
    (p,) = check(loaded, form(loaded, headers=no_rating)).problems
    assert p.message == ("列の構成が変わっているため読み取れません（見出し「評価（必須）」「方向性（必須）」の列が見つかりません）"
                         + tail)
    twice = headers + ["方向性", "評価"]
    (p,) = check(loaded, form(loaded, headers=twice)).problems
    assert p.message == ("列の構成が変わっているため読み取れません（見出し「評価（必須）」が 2 つの列（F・M 列）にあります、"
                         "見出し「方向性（必須）」が 2 つの列（G・L 列）にあります）" + tail)


def test_columns_added_moved_and_fixed_ones_missing(loaded):
    cols = L.columns(loaded)
    headers = [c.header for c in cols] + ["メモ", "修正内容"]
    sub = check(loaded, form(loaded, headers=headers, answers=good_answers(loaded)))
    assert codes(sub) == [("column-added", "L5", "")]  # the correction copy's reason column is no addition
    assert "メモ" in sub.problems[0].message
    no_group = [h if h != "基本目標" else "" for h in [c.header for c in cols]]
    sub = check(loaded, form(loaded, headers=no_group, answers=good_answers(loaded)))
    assert [p.code for p in sub.problems] == ["fixed-column-missing"] and not sub.invalid
    raw = form(loaded, answers=good_answers(loaded))
    raw.cells[ID_SHEET][(8, 3)] = text("2")  # the record says 施策番号 was in column B
    sub = check(loaded, raw)
    assert [(p.code, p.sheet) for p in sub.problems] == [("columns-moved", "調査票")] and sub.answers["1"]["評価"] == "A"


def test_rows_that_do_not_belong(loaded):
    extra = [(20, {1: RawCell(4.0, "n"), 6: text("A")}),  # 区民課's measure
             (21, {1: text("99"), 6: text("A")}),  # no such measure
             (22, {6: text("A")}),  # answered, without a number
             (23, {2: text("メモだけ")}),  # a note, no answer: ignored
             (24, {1: text("#N/A"), 6: text("A")}),
             (25, {1: text("No.1"), 6: text("C")})]  # measure 1 a second time
    raw = form(loaded, answers=good_answers(loaded), extra_rows=extra)
    raw.cells[loaded.survey.input_sheet][(24, 1)] = RawCell("#N/A", "e")
    sub = check(loaded, raw)
    assert codes(sub) == [("measure-added", "A22", "（空欄）"), ("measure-added", "A24", "（空欄）"),
                          ("measure-other-department", "A20", "4"), ("measure-added", "A21", "99"),
                          ("duplicate-row", "A25", "1")]
    assert "区民課" in sub.problems[2].message
    assert sub.answers["1"]["評価"] == "A"  # the first row counts
    assert sub.invalid == {"1"}  # a duplicate row is an error of that measure


def test_missing_rows_and_rows_changed_by_a_later_master(loaded):
    raw = form(loaded, answers=good_answers(loaded))
    sheet = raw.cells[loaded.survey.input_sheet]
    for key in [k for k in sheet if k[0] in (7, 8)]:
        del sheet[key]  # measure 2's row deleted, and ended measure 3's: it counts as 終了 anyway
    sub = check(loaded, raw)
    assert codes(sub) == [("measure-missing", "", "2")] and sub.invalid == {"2"}
    assert sub.problems[0].sheet == "調査票"
    # measure 2 was not on the form when it was made: not the department's doing
    raw.cells[ID_SHEET] = {k: v for k, v in raw.cells[ID_SHEET].items()
                           if not (v.value == "measure" and raw.cells[ID_SHEET].get((k[0], 2)) == text("2"))}
    sub = check(loaded, raw)
    assert [(p.code, p.sheet) for p in sub.problems] == [("measure-added-after-form", "調査票")] and sub.invalid == set()
    assert [p.severity for p in sub.problems] == ["warning"]


def test_a_measure_moved_to_another_department_after_the_form_was_made(loaded):
    extra = form(loaded, department="区民課", extra_rows=[(30, {1: text("1"), 6: text("A")})])
    extra.cells[ID_SHEET][(100, 1)], extra.cells[ID_SHEET][(100, 2)] = text("measure"), text("1")
    sub = check(loaded, extra)
    assert [(p.code, p.measure) for p in sub.problems if p.code.startswith("measure-")] == [
        ("measure-removed-after-form", "1")]
    assert f"（現在は {DEPT} の施策）" in next(p.message for p in sub.problems if p.measure == "1")


def test_fixed_cells_edited(loaded):
    answers = good_answers(loaded)
    raw = form(loaded, answers=answers)
    sheet = raw.cells[loaded.survey.input_sheet]
    sheet[(6, 3)] = text("別の施策名")
    sheet[(7, 3)] = text(" 電子申請の拡大　")  # spaces around and full width: the same text
    sheet[(8, 3)] = text("旧システムの 廃止")  # a space inside is a change
    sub = check(loaded, raw)
    assert codes(sub) == [("fixed-changed", "C6", "1"), ("fixed-changed", "C8", "3")] and sub.invalid == set()
    widths = form(loaded, answers=answers)
    widths.cells[loaded.survey.input_sheet][(8, 3)] = text("旧ｼｽﾃﾑの廃止")  # half-width kana: the same text
    assert check(loaded, widths).problems == []
    # an old form: its record says which name it showed, so an edit is still told from a master change
    stale = form(loaded, answers=answers, version="0" * 16)
    stale.cells[loaded.survey.input_sheet][(6, 3)] = text("別の施策名")
    assert codes(check(loaded, stale)) == [("old-form", "", ""), ("fixed-changed", "C6", "1")]
    assert check(loaded, stale).invalid == set()
    # an old form whose record holds no names (release 0.1.0): the master's change is named, both ways round
    unnamed = form(loaded, answers=answers, version="0" * 16)
    for key in [k for k in unnamed.cells[ID_SHEET] if k[1] == 4]:
        del unnamed.cells[ID_SHEET][key]
    unnamed.cells[loaded.survey.input_sheet][(6, 3)] = text("別の施策名")
    sub = check(loaded, unnamed)
    assert codes(sub) == [("old-form", "", ""), ("measure-renamed-after-form", "A6", "1")]
    assert "「別の施策名」から「庁内ネットワークの再構築」に変わっています" in sub.problems[1].message
    assert sub.invalid == set()  # the form is old; the department did nothing wrong


def test_an_ended_measure_keeps_its_values(loaded):
    answers = good_answers(loaded)
    answers["3"] = {"評価": text("A"), "方向性": text("計画どおり推進")}
    sub = check(loaded, form(loaded, answers=answers))
    assert [(p.code, p.field) for p in sub.problems] == [("ended-changed", "評価"), ("ended-changed", "方向性")]
    assert sub.answers["3"] == {"評価": "終了", "方向性": "完了"}
    answers["3"] = {}
    sub = check(loaded, form(loaded, answers=answers))
    assert [p.code for p in sub.problems] == ["ended-changed", "ended-changed"]  # blanked is changed too


def answer(loaded, field: str, cell: RawCell | None, measure: str = "1"):
    answers = good_answers(loaded)
    if cell is None:
        answers[measure].pop(field, None)
    else:
        answers[measure][field] = cell
    sub = check(loaded, form(loaded, answers=answers))
    return sub, [p.code for p in sub.problems], sub.answers[measure].get(field)


@pytest.mark.parametrize(("cell", "problems", "value"), [
    (None, ["required"], None),
    (text("  "), ["required"], None),
    (RawCell("#DIV/0!", "e"), ["error-value"], None),
    (RawCell(None, "s", True), ["formula-no-value"], None),
    (RawCell("A", "s", True), ["formula-value"], "A"),
    (text("Ａ"), ["normalized"], "A"),
    (text(" A "), ["normalized"], "A"),
    (text("たぶんA"), ["unknown-choice"], None),
    (text("終了"), ["not-selectable"], None),
    (RawCell(1.0, "n"), ["unknown-choice"], None),
])
def test_rating_values(loaded, cell, problems, value):
    sub, got, read = answer(loaded, "評価", cell)
    assert (got, read) == (problems, value)
    assert ("1" in sub.invalid) == any(p.is_error for p in sub.problems)


def test_an_unknown_choice_lists_what_may_be_chosen(loaded):
    sub, _codes, _ = answer(loaded, "評価", text(" たぶん "))
    assert "「たぶん」" in sub.problems[0].message and "AA、A、B、C、その他" in sub.problems[0].message


@pytest.mark.parametrize(("cell", "problems", "value"), [
    (RawCell(12.5, "n"), [], 12.5),
    (RawCell(3.0, "n"), [], 3),
    (text("1,234"), ["normalized"], 1234),
    (text("１２"), ["normalized"], 12),
    (text(" 7.50 "), ["normalized"], 7.5),
    (text("-3"), ["normalized"], -3),
    (text(".5"), ["normalized"], 0.5),
    (text("1e3"), ["normalized"], 1000),
    (text("約10"), ["not-a-number"], None),
    (text("10件"), ["not-a-number"], None),
    (text("1e999"), ["not-a-number"], None),
    (text("75%"), ["not-a-number"], None),
    (RawCell(True, "b"), ["not-a-number"], None),
    (RawCell(math.inf, "n"), ["not-a-number"], None),
    (RawCell(44562.0, "n", False, "date"), ["number-is-date"], None),
    (RawCell(0.75, "n", False, "percent"), ["number-is-percent"], None),
    (None, [], None),
])
def test_number_values(loaded, cell, problems, value):
    _sub, got, read = answer(loaded, "実績値", cell)
    assert (got, read) == (problems, value)
    assert type(read) is type(value)


@pytest.mark.parametrize(("value", "shown"), [(44562.0, "2022/1/1"), (44562.5, "2022/1/1 12:00"), (1e300, "1e+300")])
def test_a_date_in_a_number_field_is_shown_as_the_date(loaded, value, shown):
    sub, _codes, _ = answer(loaded, "実績値", RawCell(value, "n", False, "date"))
    assert f"日付（{shown}）" in sub.problems[0].message


def test_the_1904_calendar(loaded):
    assert V._serial_text(0.0, True) == "1904/1/1" and V._serial_text(1.0, False) == "1899/12/31"


def percent_field(minimum=None, maximum=None) -> S.Field:
    return S.Field("達成率", "number", percent=True, minimum=minimum, maximum=maximum)


def read_number(f, value, style=""):
    sub = Submission(file="x")
    got = V.read_number(f, value, style, False, sub, {"field": f.name})
    return got, [(p.code, p.message) for p in sub.problems]


def test_percent_fields_take_75_percent_as_75():
    got, problems = read_number(percent_field(), 0.755, "percent")
    assert got == 75.5 and problems[0][0] == "normalized" and "「75.5%」" in problems[0][1]
    got, problems = read_number(percent_field(), "80%")
    assert got == 80 and [c for c, _m in problems] == ["normalized"]


@pytest.mark.parametrize(("value", "ok"), [(0.0, True), (100.0, True), (-0.5, False), (100.5, False)])
def test_ranges(value, ok):
    got, problems = read_number(percent_field(0, 100), value)
    assert (got is not None) == ok
    if not ok:
        assert problems[0][0] == "out-of-range" and "0〜100 の範囲で入力してください。" in problems[0][1]


def test_out_of_range_names_the_value_read_and_the_range():
    sub = Submission(file="x")
    V.read_number(S.Field("実績値", "number", minimum=0, maximum=100), "１２０．５", "", False, sub,
                  {"field": "実績値", "cell": "F6"})
    assert [(p.code, p.cell) for p in sub.problems] == [("normalized", "F6"), ("out-of-range", "F6")]
    assert sub.problems[1].message == "「実績値」の「120.5」は範囲外です。0〜100 の範囲で入力してください。"


def test_open_ended_ranges_say_so():
    _got, problems = read_number(S.Field("x", "number", minimum=1), 0.0)
    assert "1〜 の範囲" in problems[0][1]
    _got, problems = read_number(S.Field("x", "number", maximum=9), 10.0)
    assert "〜9 の範囲" in problems[0][1]


def test_large_numbers_stay_floats():
    assert read_number(S.Field("x", "number"), 2.0 ** 53)[0] == 2.0 ** 53
    assert type(read_number(S.Field("x", "number"), 2.0 ** 53)[0]) is float
    assert type(read_number(S.Field("x", "number"), 2.0 ** 52)[0]) is int


@pytest.mark.parametrize(("value", "kind", "iso"), [
    (44562.0, "n", "2022-01-01"), (44562.9, "n", "2022-01-01"), ("2022-05-09T00:00:00", "d", "2022-05-09"),
    ("2022/5/9", "s", "2022-05-09"), ("2022年5月9日", "s", "2022-05-09"), ("２０２２．５．９", "s", "2022-05-09"),
    ("2022 / 5 / 9", "s", "2022-05-09"), ("2022/2/30", "s", None), ("令和4年5月9日", "s", None), ("5/9", "s", None),
    (math.nan, "n", None), (1e12, "n", None),
])
def test_dates(value, kind, iso):
    sub = Submission(file="x")
    assert V.read_date(value, kind, False, sub, {}) == iso
    assert [p.code for p in sub.problems] == ([] if iso else ["not-a-date"])


def test_a_date_problem_names_the_field_the_value_and_the_cell():
    sub = Submission(file="f.xlsx")
    V.read_date("2022/2/30", "s", False, sub, {"field": "完了日", "cell": "E7", "sheet": "調査票"})
    [p] = sub.problems
    assert (p.code, p.cell, p.sheet, p.field) == ("not-a-date", "E7", "調査票", "完了日")
    assert p.message == "「完了日」の「2022/2/30」は日付として読めません。2025/4/1 の形で入力してください。"


def test_only_a_number_cell_is_a_date_serial():
    # a number that reached a text cell is text: 44562 there is not 2022-01-01
    sub = Submission(file="x")
    assert V.read_date(44562.0, "s", False, sub, {}) is None
    assert [p.code for p in sub.problems] == ["not-a-date"]


def test_dates_in_the_1904_calendar():
    assert V.read_date(0.0, "n", True, Submission(file="x"), {}) == "1904-01-01"


def test_text_values(loaded):
    sub, got, read = answer(loaded, "取組実績", text("あ" * 401))
    assert got == ["too-long"] and read == "あ" * 401
    assert (sub.problems[0].cell, sub.problems[0].message) == (
        "J6", "「取組実績」が 401 文字あり、上限 400 文字を超えています。短くしてください。")
    assert answer(loaded, "取組実績", text("あ" * 400))[1] == []
    assert answer(loaded, "取組実績", RawCell(12.0, "n"))[2] == "12"
    assert answer(loaded, "取組実績", RawCell(True, "b"))[2] == "TRUE"
    assert answer(loaded, "取組実績", RawCell(False, "b"))[2] == "FALSE"
    assert answer(loaded, "取組実績", text(" 前後の空白 "))[2] == " 前後の空白 "


@pytest.mark.parametrize(("cell", "field_type", "kept"), [
    (RawCell("x", "s"), "text", True), (RawCell(None, "s", True), "text", False), (RawCell("#N/A", "e"), "text", False),
    (RawCell(math.inf, "n"), "number", False), (RawCell(3.0, "n"), "number", True),
    (RawCell(44562.0, "n", False, "date"), "number", False), (RawCell(44562.0, "n", False, "date"), "text", True),
])
def test_storable(cell, field_type, kept):
    assert V._storable(cell, S.Field("x", field_type)) == kept


def test_small_helpers():
    assert [V._text(v) for v in (None, 3.0, 3.5, " a ")] == ["", "3", "3.5", "a"]
    assert [V._fmt(v) for v in (None, 3.0, 2.5, 1e17)] == ["", "3", "2.5", "1e+17"]
    # a message shows whole numbers in full up to 16 digits, as the clerk typed them
    assert [V._fmt(v) for v in (1234567.0, -98765432.0, 9999999999999998.0, 1e16)] == [
        "1234567", "-98765432", "9999999999999998", "1e+16"]
    assert not V._filled(None) and not V._filled(RawCell("", "s")) and V._filled(RawCell(0.0, "n"))


def test_the_ledger_record_round_trips(loaded):
    sub = check(loaded, form(loaded, answers={**good_answers(loaded), "2": {"評価": text("たぶん")}}))
    row = sub.record()
    assert (row["outcome"], row["department"], row["errors"]) == ("identified", DEPT, sub.errors)
    import json

    back = Submission.from_stored(json.loads(row["result"]), "別名.xlsx", b"x", "h", 10, "m")
    assert (back.answers, back.typed, back.invalid, back.respondent, back.department) == (
        sub.answers, sub.typed, sub.invalid, sub.respondent, sub.department)
    assert [(p.code, p.file) for p in back.problems] == [(p.code, "別名.xlsx") for p in sub.problems]
    assert (back.file, back.path_bytes, back.sha256, back.size, back.mtime) == ("別名.xlsx", b"x", "h", 10, "m")
    assert (back.saved_at, back.form_version, back.identified) == (sub.saved_at, sub.form_version, True)
    assert back.form_version and back.saved_at
    stray = check(loaded, RawWorkbook(failure="corrupt", detail="x")).record()
    assert (stray["outcome"], stray["department"]) == ("corrupt", None)
    assert Submission(file="x").record()["outcome"] == "unknown"


def test_a_stored_result_without_some_keys_reads_as_empty_not_as_an_error():
    # rows written before a key existed: the ledger keeps them, and collect must still use them
    back = Submission.from_stored({}, "古い.xlsx", b"p", "h", 1, "m")
    assert (back.saved_at, back.department, back.form_version, back.identified) == ("", "", "", False)
    assert (back.answers, back.typed, back.invalid, back.problems, back.respondent) == ({}, {}, set(), [], {})
    assert back.record()["outcome"] == "unknown"


@pytest.mark.parametrize(("field", "value", "style", "date1904", "message"), [
    pytest.param(S.Field("実績値", "number"), True, "", False,
                 "「実績値」の「TRUE」は数値ではありません。単位や「約」を付けず半角数字だけを入力してください。", id="true"),
    pytest.param(S.Field("実績値", "number"), False, "", False,
                 "「実績値」の「FALSE」は数値ではありません。単位や「約」を付けず半角数字だけを入力してください。", id="false"),
    pytest.param(S.Field("実績値", "number"), math.inf, "", False,
                 "「実績値」の「inf」は数値ではありません。単位や「約」を付けず半角数字だけを入力してください。", id="inf"),
    pytest.param(S.Field("実績値", "number"), "10件", "", False,
                 "「実績値」の「10件」は数値ではありません。単位や「約」を付けず半角数字だけを入力してください。", id="text"),
    pytest.param(S.Field("実績値", "number"), "1e999", "", False,
                 "「実績値」の「1e999」は数値ではありません。単位や「約」を付けず半角数字だけを入力してください。", id="overflow"),
    pytest.param(S.Field("実績値", "number"), 1.0, "date", True,
                 "「実績値」の値が日付（1904/1/2）として保存されています（「1/2」のような入力を Excel は日付に変えます）。"
                 "数値だけを半角数字で入力し直してください。", id="date-1904"),
    pytest.param(S.Field("実績値", "number"), 0.75, "percent", False,
                 "「実績値」の値がパーセント（75%）として保存されています。「%」を付けず、数値だけを入力し直してください。",
                 id="percent-in-a-number-field"),
    pytest.param(S.Field("達成率", "number", percent=True), 0.123456789012345, "percent", False,
                 "「達成率」の「12.3457%」を「12.3457」として読み取りました。", id="percent-shown-to-6-digits"),
    pytest.param(S.Field("実績値", "number"), "1 234", "", False,
                 "「実績値」の「1 234」を「1234」として読み取りました。", id="spaces-between-digits"),
])
def test_number_problems_name_the_field_and_the_value_as_typed(field, value, style, date1904, message):
    sub = Submission(file="x.xlsx")
    V.read_number(field, value, style, date1904, sub, {"field": field.name, "cell": "F6", "sheet": "調査票"})
    [p] = sub.problems
    assert (p.message, p.cell, p.sheet, p.field) == (message, "F6", "調査票", field.name)


def test_a_percentage_is_kept_to_ten_decimal_places():
    assert V.read_number(S.Field("達成率", "number", percent=True), 0.123456789012345, "percent", False,
                         Submission(file="x"), {}) == 12.3456789012
    assert V.read_number(S.Field("達成率", "number", percent=True), 0.07, "percent", False,
                         Submission(file="x"), {}) == 7  # 7.000000000000001 after ×100


def test_choice_problems_name_what_was_typed_and_what_can_be_chosen(loaded):
    sub, _codes, _ = answer(loaded, "評価", text("終了"))
    assert sub.problems[0].message == "「評価」の「終了」はこの施策では選べません。AA、A、B、C、その他 から選んでください。"
    sub, _codes, _ = answer(loaded, "評価", RawCell(1.0, "n"))
    assert sub.problems[0].message.startswith("「評価」の「1」は")


def messages(sub: Submission) -> list[tuple[str, str, str]]:
    return [(p.code, p.cell, p.message) for p in sub.problems]


def test_messages_of_edited_fixed_and_ended_cells(loaded):
    answers = good_answers(loaded)
    answers["3"] = {"評価": text("A"), "方向性": text("完了")}
    raw = form(loaded, answers=answers)
    sheet = raw.cells[loaded.survey.input_sheet]
    sheet[(6, 3)] = text("別の施策名")
    del sheet[(7, 3)]  # a fixed cell emptied
    assert messages(check(loaded, raw)) == [
        ("fixed-changed", "C6", "固定の項目「施策名」が配布時の「庁内ネットワークの再構築」から「別の施策名」に書き換えられています。"
                                "変更はできないため、配布時の値で集計します。"),
        ("fixed-changed", "C7", "固定の項目「施策名」が配布時の「電子申請の拡大」から「」に書き換えられています。"
                                "変更はできないため、配布時の値で集計します。"),
        ("ended-changed", "F8", "終了した施策の「評価」が変更されています。「終了」として集計します。")]
    stale = form(loaded, answers=good_answers(loaded), version="0" * 16)
    stale.cells[loaded.survey.input_sheet][(6, 4)] = text("別の指標")
    [_old, changed] = check(loaded, stale).problems
    assert (changed.code, changed.cell, changed.measure) == ("master-changed-value", "D6", "1")
    assert "調査票では「別の指標」、現在は「" in changed.message


def test_messages_of_error_and_formula_cells(loaded):
    sub, _codes, _ = answer(loaded, "評価", RawCell("#DIV/0!", "e"))
    assert sub.problems[0].message == "「評価」がエラー値「#DIV/0!」です。正しい値を入力してください。"
    sub, _codes, _ = answer(loaded, "実績値", RawCell(12.0, "n", True))
    assert (sub.problems[0].cell, sub.problems[0].message) == (
        "I6", "「実績値」は数式のため、計算結果「12」を読み取りました。")


def test_a_date_in_a_number_field_of_a_1904_workbook(loaded):
    answers = good_answers(loaded)
    answers["1"]["実績値"] = RawCell(1.0, "n", False, "date")
    raw = form(loaded, answers=answers)
    raw.date1904 = True
    [p] = check(loaded, raw).problems
    assert p.code == "number-is-date" and "日付（1904/1/2）" in p.message


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    def add_date_field(toml: str) -> str:
        return toml + '\n[[fields]]\nname = "完了日"\ntype = "date"\n\n[[fields]]\nname = "備考"\ntype = "text"\n'

    loaded, problems = load(make_survey(tmp_path_factory.mktemp("d") / "s", "2020", toml_edit=add_date_field))
    assert loaded is not None, problems
    return loaded


@pytest.mark.parametrize(("cell", "date1904", "read", "codes"), [
    pytest.param(RawCell(44562.0, "n", False, "date"), False, "2022-01-01", [], id="serial"),
    pytest.param(RawCell(0.0, "n", False, "date"), True, "1904-01-01", [], id="serial-1904"),
    pytest.param(RawCell("2022-05-09T00:00:00", "d"), False, "2022-05-09", [], id="iso-date-cell"),
    pytest.param(text("2022年5月9日"), False, "2022-05-09", [], id="typed"),
    pytest.param(text("来月"), False, None, ["not-a-date"], id="not-a-date"),
])
def test_a_date_field_on_the_form(dated, cell, date1904, read, codes):
    answers = good_answers(dated)
    answers["1"]["完了日"] = cell
    raw = form(dated, answers=answers)
    raw.date1904 = date1904
    sub = check(dated, raw)
    assert sub.answers["1"].get("完了日") == read
    assert [(p.code, p.field, p.measure) for p in sub.problems] == [(c, "完了日", "1") for c in codes]
    if codes:
        assert sub.problems[0].message.startswith("「完了日」の「来月」は日付として読めません。")


def test_a_text_field_without_a_limit_takes_what_an_excel_cell_holds(dated):
    for length, codes in ((32767, []), (32768, ["too-long"])):
        answers = good_answers(dated)
        answers["1"]["備考"] = text("あ" * length)
        sub = check(dated, form(dated, answers=answers))
        assert [p.code for p in sub.problems] == codes
    assert sub.problems[0].message == "「備考」が 32768 文字あり、上限 32767 文字を超えています。短くしてください。"


def test_every_problem_of_a_reworked_form_says_where(loaded):
    cols = L.columns(loaded)
    headers = [c.header if c.header != "基本目標" else "" for c in cols] + ["メモ"]
    extra = [(20, {8: RawCell(5.0, "n")}),  # an answer in a row without a number
             (21, {1: text("99"), 6: text("A")})]  # a number the master does not know
    raw = form(loaded, headers=headers, answers=good_answers(loaded), extra_rows=extra)
    raw.cells[ID_SHEET][(100, 1)], raw.cells[ID_SHEET][(100, 2)] = text("measure"), text("99")  # on the form as made
    got = [(p.code, p.sheet, p.cell, p.measure, p.message) for p in check(loaded, raw).problems]
    assert got == [
        ("column-added", "調査票", "L5", "", "追加された列「メモ」は集計に使いません。"),
        ("fixed-column-missing", "調査票", "", "",
         "固定の列「基本目標」が見つかりません（削除された可能性があります）。回答の読み取りには影響しません。"),
        ("measure-added", "調査票", "A20", "（空欄）",
         "施策番号「（空欄）」はこの所管課の施策ではありません。行を追加せず、配布した調査票に入力してください。"),
        ("measure-removed-after-form", "調査票", "A21", "99",
         "施策番号「99」は調査票の作成後に施策マスタでこの所管課の施策ではなくなったため、この行の回答は集計に使いません。"),
    ]
    # a number nobody has, and measure 1 twice
    raw = form(loaded, answers=good_answers(loaded), extra_rows=[(22, {1: text("98"), 6: text("A")}),
                                                                   (23, {1: text("1"), 6: text("B")})])
    got = [(p.code, p.sheet, p.cell, p.measure) for p in check(loaded, raw).problems]
    assert got == [("measure-added", "調査票", "A22", "98"), ("duplicate-row", "調査票", "A23", "1")]


def test_without_a_file_time_the_submission_has_none(loaded):
    sub = check_submission(loaded, form(loaded, answers=good_answers(loaded)), "f.xlsx")
    assert (sub.mtime, sub.saved_at) == ("", "2022-05-09T01:00:00Z")


@pytest.mark.parametrize(("field", "cell", "codes", "value"), [
    # a text format shows another choice than the cell holds
    pytest.param("評価", RawCell("A", "s", format='"未"@'), ["shown-differs"], None, id="text-section"),
    pytest.param("評価", RawCell("A", "s", format=";;;"), ["shown-differs"], None, id="hidden-choice"),
    pytest.param("評価", RawCell("A", "s", format="@"), [], "A", id="text-format-is-itself"),
    # a number shown as another number
    pytest.param("実績値", RawCell(50.0, "n", format='0"0"'), ["shown-differs"], None, id="digit-literal"),
    pytest.param("実績値", RawCell(1500.0, "n", format="#,##0,"), ["shown-differs"], None, id="scaled"),
    pytest.param("実績値", RawCell(50.0, "n", format=";;;"), ["shown-differs"], None, id="hidden-number"),
    # shown as itself: separators, a unit, rounding to the decimals shown
    pytest.param("実績値", RawCell(1234.0, "n", format='#,##0"件"'), [], 1234, id="unit"),
    pytest.param("実績値", RawCell(12.345, "n", format="0.0"), [], 12.345, id="rounded"),
])
def test_a_format_that_shows_another_answer_is_refused(loaded, field, cell, codes, value):
    sub, got, read = answer(loaded, field, cell)
    assert got == codes and read == value
    if codes:
        assert sub.problems[0].message.startswith(f"「{field}」のセルは「")
        assert "1" in sub.invalid
