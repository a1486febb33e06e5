"""The master (define/master.py) piece by piece: reading its table, naming its groups, the
lookups later stages use, and the previous year's values made canonical."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest

from tests.survey_helpers import make_survey, write_master
from xlsx_tool.define import master as M
from xlsx_tool.define.master import Master, Measure, group_order, load, split_group
from xlsx_tool.define.survey import Group
from xlsx_tool.intake.reader import RawCell, RawWorkbook

H20 = ["施策番号", "施策名", "基本目標", "所管課", "前年度評価", "前年度方向性"]
H25 = ["施策番号", "施策名", "基本方針", "所管課", "前年度評価"]


@pytest.mark.parametrize(("text", "group"), [
    ("Ⅰ：業務の改善・効率化", Group("Ⅰ", "業務の改善・効率化")),
    ("Ⅰ:業務の改善", Group("Ⅰ", "業務の改善")),
    ("① 開かれた区政の実現", Group("①", "開かれた区政の実現")),
    ("①開かれた区政の実現", Group("①", "開かれた区政の実現")),
    ("1. 行政運営", Group("1", "行政運営")),
    ("2）区民サービス", Group("2", "区民サービス")),
    ("3、情報", Group("3", "情報")),
    ("Ⅰ", Group("Ⅰ", "")),
    (" ② ", Group("②", "")),
    ("計画に関する進捗管理", Group("計画に関する進捗管理", "")),
    ("基本 方針", Group("基本 方針", "")),  # a label of its own, not an ordinal and a name
    ("Ⅲ業務の改善", Group("Ⅲ", "業務の改善")), ("ⅲ業務の改善", Group("ⅲ", "業務の改善")),
    ("⑳データ", Group("⑳", "データ")), ("Ⅻ 最後", Group("Ⅻ", "最後")),
])
def test_split_group(text, group):
    assert split_group(text) == group


@pytest.mark.parametrize(("gid", "key"), [
    ("1", (0, 1.0)), ("12", (0, 12.0)), ("１２", (0, 12.0)), ("①", (0, 1.0)), ("⑳", (0, 20.0)),
    ("Ⅳ", (0, 4.0)), ("ⅲ", (0, 3.0)), ("A", (1, 0.0)), ("計画", (1, 0.0)),
])
def test_group_order(gid, key):
    assert group_order(gid) == key


def test_groups_sort_by_their_number_then_the_rest():
    ids = ["計画", "⑩", "②", "1", "Ⅲ", "開かれた区政"]
    # unnumbered groups keep the order they come in (the plan's), not their character codes
    assert sorted(ids, key=group_order) == ["1", "②", "Ⅲ", "⑩", "計画", "開かれた区政"]


@pytest.mark.parametrize(("value", "text"), [
    (" 施策 ", "施策"), (None, ""), (4.0, "4"), (4.5, "4.5"), (-3.0, "-3"), (float("nan"), ""), (math.inf, ""),
    (-math.inf, ""), (2.0 ** 53, "9007199254740992.0"), (7, "7"), (True, "True"),
])
def test_cell_text(value, text):
    assert M._cell_text(value) == text


def test_a_sheet_becomes_a_grid_with_errors_blank_and_booleans_spelt():
    cells = {(1, 1): RawCell("施策番号", "s"), (1, 3): RawCell("所管課", "s"), (2, 1): RawCell(1.0, "n"),
             (2, 2): RawCell("#N/A", "e"), (2, 3): RawCell(True, "b"), (3, 2): RawCell(False, "b")}
    raw = RawWorkbook(sheets=[("隠し", "hidden"), ("施策", "visible")], cells={"施策": cells})
    assert M._rows(raw) == [["施策番号", None, "所管課"],
                            [M.Shown("1", 1.0), M.Shown("", problem="error-in-table", detail="#N/A"), "TRUE"],
                            [None, "FALSE", None]]
    assert M._rows(RawWorkbook(sheets=[("施策", "visible")], cells={})) == []


def test_a_sheet_beyond_the_limits_is_cut_one_row_past_them(monkeypatch):
    # one row more than the limit is kept, so the row check can say the master is too long;
    # cells beyond are dropped wherever they come in the sheet (limits made small for the test)
    monkeypatch.setattr(M, "MAX_ROWS", 10)
    monkeypatch.setattr(M, "MAX_COLUMNS", 4)
    cells = {(M.MAX_ROWS + 5, 1): RawCell("遠く", "s"), (3, M.MAX_COLUMNS + 3): RawCell("右", "s"),
             (1, 1): RawCell("施策番号", "s"), (M.MAX_ROWS + 1, M.MAX_COLUMNS): RawCell("端", "s")}
    raw = RawWorkbook(sheets=[("施策", "visible")], cells={"施策": cells})
    grid = M._rows(raw)
    assert len(grid) == M.MAX_ROWS + 1 and {len(row) for row in grid} == {M.MAX_COLUMNS}
    assert grid[0][0] == "施策番号" and grid[-1][-1] == "端"
    assert sum(v is not None for row in grid for v in row) == 2


@pytest.mark.parametrize(("failure", "detail", "says"), [
    ("encrypted", "", "パスワードで保護（暗号化）されています"),
    ("corrupt", "中身が壊れています", "中身が壊れています（Excel で開いて .xlsx 形式で保存し直してください）"),
    ("corrupt", "", "Excel で開けるか確認し、.xlsx 形式で保存し直してください"),
])
def test_an_unreadable_master_workbook_says_why(failure, detail, says):
    with pytest.raises(M.TableError) as caught:
        M._rows(RawWorkbook(failure=failure, detail=detail))
    code, kw = caught.value.args
    assert code == "master-unreadable" and kw["detail"].startswith(says)


def test_a_master_in_shift_jis_with_a_blank_row_on_top(tmp_path):
    folder = make_survey(tmp_path / "s", "2025", ["施策番号"], [])
    path = folder / "施策マスタ.csv"
    path.write_bytes("\r\n施策番号,施策名,基本方針,所管課\r\n1,Ｗｅｂ会議,Ⅰ,ICT推進課\r\n".encode("cp932"))
    loaded, problems = load(folder)
    assert [p for p in problems if p.is_error] == []
    (m,) = loaded.master.measures
    assert (m.number, m.name, m.group, m.department, m.row) == ("1", "Ｗｅｂ会議", "Ⅰ", "ICT推進課", 3)


def test_a_master_that_is_neither_utf8_nor_shift_jis(tmp_path):
    folder = make_survey(tmp_path / "s", "2025", ["施策番号"], [])
    (folder / "施策マスタ.csv").write_bytes(b"\x81\x20\xff\xfe\x80\x81")
    _loaded, problems = load(folder)
    (p,) = problems
    assert p.code == "master-unreadable" and "UTF-8 または Shift_JIS" in p.message


def test_a_master_with_a_broken_quote_names_the_row(tmp_path):
    folder = make_survey(tmp_path / "s", "2025", ["施策番号"], [])
    (folder / "施策マスタ.csv").write_text('施策番号,施策名,基本方針,所管課\n1,"A\x00,Ⅰ,課A\n', encoding="utf-8")
    _loaded, problems = load(folder)
    assert [p.code for p in problems] == ["master-unreadable"]


def test_master_lookups(tmp_path):
    rows = [[3, "C", "① 目標", "課B", "A", ""], [10, "J", "① 目標", "課A", "A", ""], [2, "B", "② 目標二", "課A", "終了", ""],
            [1, "A", "② 目標二", "課C", "A", "完了"]]
    folder = make_survey(tmp_path / "s", "2020", H20 + ["担当係", "前年度施策番号"], [r + ["係1", ""] for r in rows])
    loaded, problems = load(folder)
    assert [p for p in problems if p.is_error] == []
    master = loaded.master
    assert [m.number for m in master.measures] == ["1", "2", "3", "10"]  # number order, not row order
    assert master.departments == ("課C", "課A", "課B")
    assert [m.number for m in master.of("課A")] == ["2", "10"]
    assert [m.number for m in loaded.measures_of("課A")] == ["2", "10"] and loaded.measures_of("課Z") == ()
    assert loaded.by_number["10"].name == "J" and set(loaded.by_number) == {"1", "2", "3", "10"}
    assert loaded.departments == frozenset({"課A", "課B", "課C"})
    assert loaded.asked == ("課A", "課B")  # 課C's only measure ended
    assert [m.ended for m in master.measures] == [True, True, False, False]
    assert master.extra_columns == ("担当係",) and master.has("担当係") and not master.has("指標")
    assert master.by_number()["3"].extra == (("担当係", "係1"),)


def test_ended_needs_an_ended_value_in_the_scale(tmp_path):
    loaded, _ = load(make_survey(tmp_path / "a", "2020"))
    s = loaded.survey
    ended = Measure("1", "A", "①", "課A", 2, previous_direction="完了")
    assert M.is_ended(s, ended) and M.ended_values(s) == {"評価": "終了", "方向性": "完了"}
    assert not M.is_ended(s, dataclasses.replace(ended, previous_direction="事業拡大"))
    assert M.is_ended(s, dataclasses.replace(ended, previous_direction="", previous_rating="終了"))
    loaded25, _ = load(make_survey(tmp_path / "b", "2025"))
    assert not M.is_ended(loaded25.survey, ended)  # the 2025 scale has no 終了
    assert M.ended_values(loaded25.survey) == {"評価": "終了"}


def test_previous_values_are_stored_as_the_scale_spells_them(tmp_path):
    rows = [[1, "A", "①", "課A", "Ａ", "計画どおり 推進"], [2, "B", "①", "課A", "ａａ", " 完了 "], [3, "C", "①", "課A", "", ""],
            [4, "D", "①", "課A", "B", "事業　拡大"]]  # only the direction is spelt otherwise
    loaded, problems = load(make_survey(tmp_path / "s", "2020", H20, rows))
    assert [p.code for p in problems if p.is_error] == []
    assert [(m.previous_rating, m.previous_direction) for m in loaded.master.measures] == [
        ("A", "計画どおり推進"), ("AA", "完了"), ("", ""), ("B", "事業拡大")]


def test_without_a_direction_scale_the_previous_direction_is_shown_as_written(tmp_path):
    # the 2025 style has no direction scale: 前年度方向性 is free text, only its spaces and
    # width tidied, and the form's 前年度 column shows it, even a placeholder left in the sheet
    from xlsx_tool.forms.layout import PREVIOUS_KEY, columns, fixed_value

    rows = [[1, "A", "Ⅰ", "課A", "達成", "継続　して実施"], [2, "B", "Ⅰ", "課A", "", "XXXX"], [3, "C", "Ⅰ", "課A", "未達成", ""]]
    loaded, problems = load(make_survey(tmp_path / "s", "2025", H25 + ["前年度方向性"], rows))
    assert problems == []
    (col,) = [c for c in columns(loaded) if c.key == PREVIOUS_KEY]
    assert col.header == "前年度の評価・方向性"
    assert [fixed_value(col, m) for m in loaded.master.measures] == ["達成／継続 して実施", "XXXX", "未達成"]


def test_groups_named_in_the_definition_accept_every_spelling(tmp_path):
    spellings = ["Ⅰ", "基本方針Ⅰ", "業務の改善・効率化", "Ⅰ：業務の改善・効率化", "Ⅰ 業務の改善・効率化",
                 "基本方針Ⅰ：業務の改善・効率化", "Ⅰ業務の改善・効率化", "ｌ", "Ⅰ．別の名前"]
    rows = [[i, f"施策{i}", g, "課A", ""] for i, g in enumerate(spellings, 1)]
    loaded, problems = load(make_survey(tmp_path / "s", "2025", ["施策番号", "施策名", "基本方針", "所管課", "前年度評価"], rows))
    assert [(p.code, p.row) for p in problems] == [("unknown-group", 9)]  # ｌ (a letter) is not Ⅰ
    assert [m.group for m in loaded.master.measures] == ["Ⅰ"] * 7 + ["ｌ", "Ⅰ"]
    _loaded, problems = load(make_survey(tmp_path / "t", "2025", ["施策番号", "施策名", "基本方針", "所管課", "前年度評価"],
                                         rows[:7]))
    assert problems == []


def test_master_from_a_workbook(tmp_path):
    import openpyxl

    folder = make_survey(tmp_path / "s", "2025", ["施策番号"], [],
                         lambda t: t.replace('master = "施策マスタ.csv"', 'master = "施策マスタ.xlsx"'))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "施策一覧"
    ws.append(["施策番号", "施策名", "基本方針", "所管課", "目標値"])
    ws.append([1, "Web会議", "Ⅰ", "ICT推進課", 500])
    ws.append([2.0, "RPA", "Ⅰ", "人事課", 0.5])
    wb.save(folder / "施策マスタ.xlsx")
    loaded, problems = load(folder)
    assert problems == []
    assert [(m.number, m.department, m.target) for m in loaded.master.measures] == [("1", "ICT推進課", "500"), ("2", "人事課", "0.5")]


def test_the_fingerprint_follows_what_a_department_saw(tmp_path):
    def fp(name: str, rows) -> str:
        loaded, _ = load(make_survey(tmp_path / name, "2025", ["施策番号", "施策名", "基本方針", "所管課", "主な成果"], rows))
        return loaded.fingerprint

    base = fp("a", [[1, "A", "Ⅰ", "課A", ""], [2, "B", "Ⅰ", "課A", ""]])
    assert fp("b", [[2, "B", "Ⅰ", "課A", ""], [1, "A", "Ⅰ", "課A", ""]]) == base  # rows moved
    assert fp("c", [[1, "A", "Ⅰ", "課A", "成果"], [2, "B", "Ⅰ", "課A", ""]]) == base  # the section's own column
    assert fp("d", [[1, "A2", "Ⅰ", "課A", ""], [2, "B", "Ⅰ", "課A", ""]]) != base
    assert fp("e", [[1, "A", "Ⅰ", "課B", ""], [2, "B", "Ⅰ", "課A", ""]]) != base
    # not the release: an upgrade with nothing else changed keeps every answer current
    import xlsx_tool

    loaded, _ = load(tmp_path / "a")
    old_release, xlsx_tool.__version__ = xlsx_tool.__version__, "99.0"
    try:
        assert load(tmp_path / "a")[0].fingerprint == base
    finally:
        xlsx_tool.__version__ = old_release


def test_master_row_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(M, "MAX_ROWS", 3)
    folder = make_survey(tmp_path / "s", "2025", ["施策番号", "施策名", "基本方針", "所管課"],
                         [[i, "A", "Ⅰ", "課A"] for i in range(1, 3)])
    assert [p.code for p in load(folder)[1]] == []  # the header and two measures: three rows
    write_master(folder, ["施策番号", "施策名", "基本方針", "所管課"], [[i, "A", "Ⅰ", "課A"] for i in range(1, 4)])
    (p,) = load(folder)[1]
    assert p.code == "master-unreadable" and "行が 3 行を超えています" in p.message


def test_master_ignores_columns_past_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(M, "MAX_COLUMNS", 4)
    folder = make_survey(tmp_path / "s", "2025", ["施策番号", "施策名", "基本方針", "所管課", "指標"],
                         [[1, "A", "Ⅰ", "課A", "件数"]])
    loaded, problems = load(folder)
    assert problems == [] and loaded.master.measures[0].indicator == "" and not loaded.master.has("指標")


def test_master_as_a_plain_table(tmp_path):
    m = Master("x.csv", ("施策番号", "", "備考"), (Measure("1", "A", "Ⅰ", "課A", 2),), "基本方針")
    assert m.extra_columns == ("備考",)


def test_a_master_file_of_50_mb_is_judged_by_its_content_and_one_byte_more_by_its_size(tmp_path):
    # a file cut off by a broken copy: the header, then zero bytes up to exactly 50 MB
    folder = make_survey(tmp_path / "s", "2025", ["施策番号"], [])
    path = folder / "施策マスタ.csv"
    with path.open("wb") as fh:
        fh.write("施策番号,施策名,基本方針,所管課\r\n".encode())
        fh.truncate(50 * 1024 * 1024)
    _loaded, problems = load(folder)
    assert [(p.code, p.file, p.message) for p in problems] == [
        ("master-unreadable", "施策マスタ.csv",
         "読み込めません（テキスト（CSV）ではありません。Excel で開いて .xlsx 形式で保存し直してください）。")]
    with path.open("ab") as fh:
        fh.write(b"\0")
    _loaded, problems = load(folder)
    assert [(p.code, p.file, p.message) for p in problems] == [
        ("master-unreadable", "施策マスタ.csv", "読み込めません（ファイルが大きすぎます（上限 50 MB））。")]


def test_the_first_row_that_names_a_group_names_it(tmp_path):
    # groups taken from the master (the 2020 style): a later row that names ① otherwise (a
    # typo, a shortened name) neither renames it nor becomes a group of its own
    rows = [[1, "A", "①", "課A", "", ""], [2, "B", "① 開かれた区政の実現", "課A", "", ""],
            [3, "C", "① 区政の実現", "課A", "", ""], [4, "D", "①", "課A", "", ""]]
    loaded, problems = load(make_survey(tmp_path / "s", "2020", H20, rows))
    assert [p.code for p in problems] == ["reason-field-unused"]  # a first year: no rating to have changed
    assert [(g.id, g.name) for g in loaded.survey.groups] == [("①", "開かれた区政の実現")]
    assert [m.group for m in loaded.master.measures] == ["①"] * 4


def test_a_row_without_a_group_does_not_hide_the_rows_after_it(tmp_path):
    rows = [[1, "A", "", "課A", ""], [2, "B", "Ⅴ", "課A", ""], [3, "C", "Ⅰ", "課A", ""]]
    loaded, problems = load(make_survey(tmp_path / "s", "2025", H25, rows))
    assert [(p.code, p.row, p.message) for p in problems] == [
        ("empty-group", 2, "施策番号「1」の基本方針が空です。入力してください。"),
        ("unknown-group", 3, "施策番号「2」の基本方針「Ⅴ」は survey.toml の groups にありません。"
                             "Ⅰ、Ⅱ、Ⅲ、Ⅳ のいずれかにしてください。")]
    assert [(m.number, m.group) for m in loaded.master.measures] == [("1", ""), ("2", "Ⅴ"), ("3", "Ⅰ")]


def test_group_ids_with_a_dot_are_matched_whole(tmp_path):
    # a plan numbered 1.1, 1.2 (施策の方向 under 基本目標 1): 「1.1 窓口改革」 is group 1.1, not a
    # group 「1」 named 「1 窓口改革」
    def groups(text: str) -> str:
        text = re.sub(r'\[\[groups\]\]\nid = "[^"]*"\nname = "[^"]*"\n\n', "", text)
        return text + '\n[[groups]]\nid = "1.1"\nname = "窓口改革"\n\n[[groups]]\nid = "1.2"\nname = "電子申請"\n'

    rows = [[1, "A", "1.1 窓口改革", "課A", ""], [2, "B", "1.2", "課A", ""], [3, "C", "1.2：電子申請", "課A", ""],
            [4, "D", "窓口改革", "課A", ""], [5, "E", "1.3", "課A", ""]]
    loaded, problems = load(make_survey(tmp_path / "s", "2025", H25, rows, groups))
    assert [(g.id, g.name) for g in loaded.survey.groups] == [("1.1", "窓口改革"), ("1.2", "電子申請")]
    assert [(p.code, p.row, p.message) for p in problems] == [
        ("unknown-group", 6, "施策番号「5」の基本方針「1.3」は survey.toml の groups にありません。"
                             "1.1、1.2 のいずれかにしてください。")]
    assert [m.group for m in loaded.master.measures] == ["1.1", "1.2", "1.2", "1.1", "1.3"]


def test_a_department_spelt_two_ways_is_named_once_below_a_row_without_one(tmp_path):
    rows = [[1, "A", "Ⅰ", "", ""], [2, "B", "Ⅰ", "ICT推進課", ""], [3, "C", "Ⅰ", "ICT 推進課", ""],
            [4, "D", "Ⅰ", "ICT 推進課", ""], [5, "E", "Ⅰ", "ICT推進課 ", ""]]
    _loaded, problems = load(make_survey(tmp_path / "s", "2025", H25, rows))
    assert [(p.code, p.row, p.column, p.message) for p in problems] == [
        ("empty-department", 2, "所管課", "施策番号「1」の所管課が空です。入力してください。"),
        ("department-spelling", 4, "所管課", "所管課「ICT 推進課」は 3 行目の「ICT推進課」と空白や全角・半角の違いだけで"
                                            "同じ名前です。どちらかに揃えてください（別々の調査票になってしまいます）。")]


def test_a_measure_sent_to_a_worker_comes_back_whole():
    import pickle

    m = Measure("1-2", "電子申請の拡大", "Ⅲ", "ICT推進課", 7, "手続数", "件", "50", "達成", "継続",
                "成果", (("係", "A"),), "1-1")
    assert pickle.loads(pickle.dumps(m, protocol=pickle.HIGHEST_PROTOCOL)) == m  # every field, in its place
