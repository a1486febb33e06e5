"""Pure tallies (xlsx_tool.tally) and the report sentences built from them (xlsx_tool.report).

No workbook is written here: surveys are built from a template toml and a CSV master in a
temporary folder, answers are plain dicts {measure number: {field: value}}.
"""

from __future__ import annotations

import csv
import math
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.survey_helpers import fill_placeholders
from xlsx_tool.define.master import load
from xlsx_tool.demo import example_answers
from xlsx_tool.summarize import report
from xlsx_tool.summarize.report import Paragraph, Placeholder, Table
from xlsx_tool.summarize.tally import (
    DECLINED,
    IMPROVED,
    UNANSWERED,
    UNRANKED,
    Change,
    largest_remainder,
    tally,
    trend,
)
from xlsx_tool.summarize.wording import Wording, plain

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "templates"
EXAMPLE = ROOT / "examples" / "ict2025"


def make_survey(folder: Path, template: str, header: list[str], rows: list[list[object]], edit=None):
    """A survey folder from templates/<template>.toml (changed by `edit`) with a CSV master; returns Loaded."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (TEMPLATES / f"{template}.toml").read_text(encoding="utf-8")
    text = fill_placeholders(text.replace('master = "施策マスタ.xlsx"', 'master = "施策マスタ.csv"'))
    if edit:
        text = edit(text)
    (folder / "survey.toml").write_text(text, encoding="utf-8")
    with open(folder / "施策マスタ.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    loaded, problems = load(folder)
    assert loaded is not None, [p.text() for p in problems]
    assert not [p for p in problems if p.is_error], [p.text() for p in problems]
    return loaded


# --------------------------------------------------------------------------- largest_remainder

@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        pytest.param([1, 1, 1], [34, 33, 33], id="thirds"),
        pytest.param([5, 19, 1], [20, 76, 4], id="ict2025-example"),
        pytest.param([1, 2], [33, 67], id="one-and-two"),
        pytest.param([0, 0, 0], [0, 0, 0], id="all-zero"),
        pytest.param([0, 7, 0], [0, 100, 0], id="one-holds-everything"),
        pytest.param([3], [100], id="single-category"),
        pytest.param([1] * 7, [15, 15, 14, 14, 14, 14, 14], id="seven-equal"),
        # 12.5 / 62.5 / 25: equal remainders, the larger count gets the spare point.
        pytest.param([1, 5, 2], [12, 63, 25], id="tie-goes-to-larger-count"),
        # 14.29 / 28.57 / 57.14: the spare point goes to the largest remainder, not the largest share
        pytest.param([1, 2, 4], [14, 29, 57], id="largest-remainder-not-largest-share"),
        pytest.param([], [], id="no-categories"),
    ],
)
def test_largest_remainder_cases(counts, expected):
    shares = largest_remainder(counts)
    assert shares == expected
    assert sum(shares) == (100 if sum(counts) else 0)


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=15)
       .filter(lambda xs: sum(xs) > 0))
def test_largest_remainder_property(counts):
    shares = largest_remainder(counts)
    assert len(shares) == len(counts)
    assert sum(shares) == 100
    n = sum(counts)
    for c, s in zip(counts, shares, strict=True):
        exact = Fraction(c * 100, n)
        assert math.floor(exact) <= s <= math.ceil(exact), (c, s, exact)


# --------------------------------------------------------------------------- 2025 style tallies

@pytest.fixture(scope="module")
def s2025(tmp_path_factory):
    """Four measures: Ⅰ has 1 and 2, Ⅱ has 3, Ⅲ has 4, Ⅳ none."""
    return make_survey(
        tmp_path_factory.mktemp("s2025") / "survey", "2025",
        ["施策番号", "施策名", "基本方針", "所管課"],
        [[1, "施策一", "Ⅰ", "総務課"], [2, "施策二", "Ⅰ", "総務課"],
         [3, "施策三", "Ⅱ", "情報課"], [4, "施策四", "Ⅲ", "情報課"]])


def all_rated(value: str = "達成") -> dict[str, dict[str, object]]:
    return {n: {"評価": value, "取組実績": "実施した"} for n in ("1", "2", "3", "4")}


def test_zero_rows_kept_and_all_in_one_category(s2025):
    t = tally(s2025.survey, s2025.master, all_rated("達成"))
    assert t.total == 4
    assert t.categories == ("達成+", "達成", "未達成")
    assert [(r.value, r.count, r.percent) for r in t.ratings] == [
        ("達成+", 0, 0), ("達成", 4, 100), ("未達成", 0, 0)]
    assert t.ratings[0].definition == "令和7年度計画の事業量を上回る実績となっている"
    assert t.missing == ()
    assert t.directions == ()
    assert t.changes == ()
    # every group is listed, also one without measures, with every rating column
    assert [(g.id, g.total, g.ratings) for g in t.groups] == [
        ("Ⅰ", 2, {"達成+": 0, "達成": 2, "未達成": 0}),
        ("Ⅱ", 1, {"達成+": 0, "達成": 1, "未達成": 0}),
        ("Ⅲ", 1, {"達成+": 0, "達成": 1, "未達成": 0}),
        ("Ⅳ", 0, {"達成+": 0, "達成": 0, "未達成": 0}),
    ]


def test_no_unanswered_category_when_everything_is_rated(s2025):
    answers = all_rated("達成")
    answers["1"]["評価"] = "達成+"
    answers["4"]["評価"] = "未達成"
    t = tally(s2025.survey, s2025.master, answers)
    assert UNANSWERED not in t.categories
    assert all(UNANSWERED not in g.ratings for g in t.groups)
    data = t.as_json(s2025.survey)
    assert [r["value"] for r in data["ratings"]] == ["達成+", "達成", "未達成"]
    assert [r["count"] for r in data["ratings"]] == [1, 2, 1]
    assert [r["percent"] for r in data["ratings"]] == [25, 50, 25]
    assert data["missing"] == []


def _no_answer(a):
    del a["3"]


def _empty_rating(a):
    a["3"]["評価"] = ""


def _none_rating(a):
    a["3"]["評価"] = None


def _unknown_rating(a):
    a["3"]["評価"] = "A"  # not on this survey's scale


def _only_other_fields(a):
    a["3"] = {"取組実績": "書いたが評価がない"}


@pytest.mark.parametrize(
    ("mutate", "invalid"),
    [
        pytest.param(_no_answer, set(), id="no-answer-at-all"),
        pytest.param(_empty_rating, set(), id="empty-rating"),
        pytest.param(_none_rating, set(), id="none-rating"),
        pytest.param(_unknown_rating, set(), id="value-not-on-scale"),
        pytest.param(_only_other_fields, set(), id="rating-field-absent"),
        pytest.param(lambda a: None, {"3"}, id="valid-rating-but-invalid"),
    ],
)
def test_unanswered_is_its_own_last_category(s2025, mutate, invalid):
    answers = all_rated("達成")
    mutate(answers)
    t = tally(s2025.survey, s2025.master, answers, invalid)
    assert t.categories == ("達成+", "達成", "未達成", UNANSWERED)
    assert [(r.value, r.count) for r in t.ratings] == [
        ("達成+", 0), ("達成", 3), ("未達成", 0), (UNANSWERED, 1)]
    assert t.ratings[-1].definition == "回答がない、または修正が必要な施策"  # explained in the table
    assert sum(r.percent for r in t.ratings) == 100
    assert [m.number for m in t.missing] == ["3"]
    assert t.total == 4
    by_group = {g.id: g.ratings for g in t.groups}
    assert by_group["Ⅱ"] == {"達成+": 0, "達成": 0, "未達成": 0, UNANSWERED: 1}
    assert by_group["Ⅰ"][UNANSWERED] == 0
    assert by_group["Ⅳ"][UNANSWERED] == 0
    line = next(x for x in t.lines if x.measure.number == "3")
    assert line.rating == UNANSWERED
    data = t.as_json(s2025.survey)
    assert data["ratings"][-1]["value"] == UNANSWERED
    reason = "needs_fix" if invalid else "unanswered"  # answered with an error is not 未回答
    assert data["missing"] == [{"measure": "3", "name": "施策三", "department": "情報課", "reason": reason}]
    assert t.missing_lines() == [f"[{'要修正' if invalid else '未回答'}] 施策番号 3 施策三（情報課）"]


def test_invalid_numbers_outside_the_master_are_ignored(s2025):
    t = tally(s2025.survey, s2025.master, all_rated("達成"), {"99"})
    assert t.missing == ()
    assert UNANSWERED not in t.categories


# --------------------------------------------------------------------------- 2020 style tallies

# number, previous rating, previous direction, group, current rating, current direction
ROWS_2020 = [
    ("1", "B", "計画どおり推進", "1：目標一", "A", "計画どおり推進"),
    ("2", "A", "", "1：目標一", "C", "計画修正"),
    ("3", "その他", "", "2：目標二", "A", "計画どおり推進"),
    ("4", "A", "", "2：目標二", "その他", "事業拡大"),
    ("5", "A", "", "2：目標二", "A", "事業拡大"),
    ("6", "", "", "2：目標二", "B", "計画どおり推進"),
    ("7", "A", "完了", "1：目標一", "終了", "完了"),  # ended: the form gives 終了/完了
    ("8", "終了", "", "2：目標二", "終了", "完了"),  # ended in an earlier year
    ("9", "C", "", "1：目標一", "AA", "事業縮小"),
]


@pytest.fixture(scope="module")
def s2020(tmp_path_factory):
    return make_survey(
        tmp_path_factory.mktemp("s2020") / "survey", "2020",
        ["施策番号", "施策名", "基本目標", "所管課", "前年度評価", "前年度方向性"],
        [[n, f"施策{n}", g, "課A" if int(n) % 2 else "課B", pr, pd] for n, pr, pd, g, _r, _d in ROWS_2020])


@pytest.fixture(scope="module")
def answers2020():
    return {n: {"評価": r, "方向性": d} for n, _pr, _pd, _g, r, d in ROWS_2020}


@pytest.fixture(scope="module")
def t2020(s2020, answers2020):
    return tally(s2020.survey, s2020.master, answers2020)


def test_2020_ratings_keep_scale_order_and_zero_rows(t2020):
    assert [(r.value, r.count) for r in t2020.ratings] == [
        ("AA", 1), ("A", 3), ("B", 1), ("C", 1), ("その他", 1), ("終了", 2)]
    assert sum(r.percent for r in t2020.ratings) == 100
    assert t2020.total == 9
    assert t2020.missing == ()


def test_2020_directions_in_scale_order_with_breakdown(s2020, t2020):
    assert [d.value for d in t2020.directions] == list(s2020.survey.direction_scale.names)
    rows = {d.value: d for d in t2020.directions}
    first = t2020.directions[0]
    assert first.value == "計画どおり推進"
    assert first.count == 3
    assert {k: v for k, v in first.breakdown.items() if v} == {"A": 2, "B": 1}
    assert first.breakdown_text() == "A:2 B:1"
    assert rows["事業拡大"].breakdown_text() == "A:1 その他:1"
    assert rows["中止（休止）"].count == 0
    assert rows["中止（休止）"].breakdown_text() == ""
    data = t2020.as_json(s2020.survey)["directions"]
    assert data[0] == {"value": "計画どおり推進", "count": 3, "breakdown": {"A": 2, "B": 1}}
    assert data[4] == {"value": "中止（休止）", "count": 0, "breakdown": {}}
    assert sum(d.count for d in t2020.directions) == t2020.total


@pytest.mark.parametrize(
    ("number", "previous", "current", "expected"),
    [
        pytest.param("1", "B", "A", IMPROVED, id="B-to-A-improved"),
        pytest.param("2", "A", "C", DECLINED, id="A-to-C-declined"),
        pytest.param("9", "C", "AA", IMPROVED, id="C-to-AA-improved"),
        pytest.param("3", "その他", "A", UNRANKED, id="other-to-A-unranked"),
        pytest.param("4", "A", "その他", UNRANKED, id="A-to-other-unranked"),
        pytest.param("5", "A", "A", "", id="unchanged"),
        pytest.param("6", "", "B", "", id="no-previous-rating"),
        pytest.param("7", "A", "終了", UNRANKED, id="A-to-ended"),
        pytest.param("8", "終了", "終了", "", id="ended-stays-ended"),
    ],
)
def test_2020_changes(t2020, number, previous, current, expected):
    line = next(x for x in t2020.lines if x.measure.number == number)
    assert line.measure.previous_rating == previous
    assert line.rating == current
    assert line.change == expected
    changes = {c.measure: c for c in t2020.changes}
    if expected:
        c = changes[number]
        assert (c.previous, c.current, c.trend) == (previous, current, expected)
    else:
        assert number not in changes


def test_2020_change_list(t2020):
    """Every change, in number order; moves to or from an unranked value are listed as such
    (and counted as neither improved nor declined)."""
    assert [(c.measure, c.group, c.trend) for c in t2020.changes] == [
        ("1", "1", IMPROVED), ("2", "1", DECLINED), ("3", "2", UNRANKED), ("4", "2", UNRANKED),
        ("7", "1", UNRANKED), ("9", "1", IMPROVED)]
    assert sum(c.trend == IMPROVED for c in t2020.changes) == 2
    assert sum(c.trend == DECLINED for c in t2020.changes) == 1


def test_2020_ended_measures_count_as_ended_in_every_total(s2020, t2020):
    assert [m.number for m in s2020.master.measures if m.ended] == ["7", "8"]
    assert t2020.count("終了") == 2
    rows = {d.value: d for d in t2020.directions}
    assert rows["完了"].count == 2
    assert {k: v for k, v in rows["完了"].breakdown.items() if v} == {"終了": 2}
    groups = {g.id: g for g in t2020.groups}
    assert [(g.id, g.name) for g in t2020.groups] == [("1", "目標一"), ("2", "目標二")]
    assert groups["1"].ratings["終了"] == 1 and groups["2"].ratings["終了"] == 1
    assert groups["1"].total == 4 and groups["2"].total == 5
    assert sum(g.total for g in t2020.groups) == t2020.total == 9


def test_2020_ended_measure_is_ended_without_an_answer(s2020, answers2020):
    answers = {n: a for n, a in answers2020.items() if n != "7"}
    t = tally(s2020.survey, s2020.master, answers)
    assert t.count("終了") == 2
    assert t.missing == ()
    assert UNANSWERED not in t.categories


# --------------------------------------------------------------------------- report sentences

@pytest.fixture(scope="module")
def example(tmp_path_factory):
    folder = tmp_path_factory.mktemp("example") / "ict2025"
    folder.mkdir()
    for name in ("survey.toml", "施策マスタ.csv", "回答例.csv", "所管課一覧.csv"):
        shutil.copyfile(EXAMPLE / name, folder / name)
    loaded, problems = load(folder)
    assert loaded is not None and not [p for p in problems if p.is_error]
    return loaded, example_answers(folder)


@pytest.fixture(scope="module")
def example_tally(example):
    loaded, answers = example
    return tally(loaded.survey, loaded.master, answers)


def test_example_counts(example, example_tally):
    t = example_tally
    assert t.total == 25
    assert [(r.value, r.count, r.percent) for r in t.ratings] == [
        ("達成+", 5, 20), ("達成", 19, 76), ("未達成", 1, 4)]
    assert [(g.id, g.total, list(g.ratings.values())) for g in t.groups] == [
        ("Ⅰ", 11, [3, 8, 0]), ("Ⅱ", 4, [1, 2, 1]), ("Ⅲ", 4, [1, 3, 0]), ("Ⅳ", 6, [0, 6, 0])]


def test_overall_sentence(example, example_tally):
    loaded, _ = example
    assert Wording(loaded.survey).overall(example_tally)[0] == (
        "現在、25施策を計画化しており、令和3年度における各施策の実績としては、"
        "「達成+」が5施策、「達成」が19施策、「未達成」が1施策であった。")


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(0, "(1) 基本方針Ⅰ：業務の改善・効率化（達成+：3施策、達成：8施策、未達成：0施策）", id="I"),
        pytest.param(1, "(2) 基本方針Ⅱ：マイナンバーカードの普及・活用（達成+：1施策、達成：2施策、未達成：1施策）", id="II"),
        pytest.param(2, "(3) 基本方針Ⅲ：オンライン化の促進（達成+：1施策、達成：3施策、未達成：0施策）", id="III"),
        pytest.param(3, "(4) 基本方針Ⅳ：データの利活用（達成+：0施策、達成：6施策、未達成：0施策）", id="IV"),
    ],
)
def test_group_heading(example, example_tally, index, expected):
    loaded, _ = example
    assert Wording(loaded.survey).group_heading(index, example_tally.groups[index], example_tally) == expected


@pytest.mark.parametrize(
    ("behind", "state"),
    [
        pytest.param(0, "概ね計画どおり実施されており", id="none-behind"),
        pytest.param(2, "概ね計画どおり実施されており", id="under-a-tenth"),
        pytest.param(3, "一部の施策に遅れが見られるものの取組を進めており", id="over-a-tenth"),
    ],
)
def test_conclusion_threshold(example, behind, state):
    loaded, answers = example
    numbers = [m.number for m in loaded.master.measures]
    changed = {n: {**answers[n], "評価": "未達成" if i < behind else "達成"} for i, n in enumerate(numbers)}
    t = tally(loaded.survey, loaded.master, changed)
    assert plain(Wording(loaded.survey).conclusion(t)) == (
        f"以上のことから、令和3年度末時点においてICT計画2025は{state}、期間満了までの"
        "各施策の着実な実現に向けて、引き続き進捗管理を行っていく。")


def flat(rep):
    """The report model as (style, text) lines: title / heading / subheading, then its blocks."""
    out = []
    for section in rep.sections:
        if section.heading is not None:
            out.append((("title", "heading", "subheading")[section.level], section.heading.text))
        for b in section.blocks:
            if isinstance(b, Paragraph):
                out.append((b.style, b.text))
            elif isinstance(b, Table):
                out.append(("table", b.caption))
            else:
                out.append(("chart", b.title))
    return out


def report_lines(survey, master, t):
    return flat(report.build(survey, master, t))


def test_report_marks_a_provisional_tally_as_a_placeholder(example):
    loaded, answers = example
    partial = {n: a for n, a in answers.items() if n != "25"}
    t = tally(loaded.survey, loaded.master, partial)
    rep = report.build(loaded.survey, loaded.master, t)
    note = "（暫定の集計：回答のそろっていない1施策を「未回答」として含む。回収を終えて集計し直すこと）"
    assert ("body", note) in flat(rep)
    found = next(p for p in rep.placeholders() if p.text == note)  # である調, highlighted, not report text
    assert found.help == "[未回答] 施策番号 25 区民の声データの分析・活用（広聴広報課）"
    complete = report_lines(loaded.survey, loaded.master, tally(loaded.survey, loaded.master, answers))
    assert not [text for _style, text in complete if "暫定" in text]
    assert t.count("未回答") == 1 and t.count("評価なし") == 0  # a value that is not a category counts 0
    assert Wording(loaded.survey).overall(t)[0].endswith("「未達成」が1施策、「未回答」が1施策であった。")


# --------------------------------------------------------------------------- 2020 wording
# The 2020 report (../shared/reference/004_…) writes single digits full width, 「A評価」 for
# ranked values, group headings with non-zero counts only and unranked ones in 【】, and
# quotes each rating's definition in its overall sentence.

@pytest.mark.parametrize(("n", "text"), [(0, "０"), (4, "４"), (9, "９"), (10, "10"), (23, "23"), (-1, "-1")])
def test_2020_numbers_single_digits_full_width(s2020, n, text):
    assert Wording(s2020.survey).num(n) == text


def test_2025_numbers_stay_half_width(s2025):
    assert [Wording(s2025.survey).num(n) for n in (0, 4, 10)] == ["0", "4", "10"]


def test_2020_years_and_labels(s2020, t2020):
    w = Wording(s2020.survey)
    assert s2020.survey.fiscal_year == 2025
    assert (w.this_year, w.previous_year, w.year(2019), w.year(2028)) == ("令和７年度", "令和６年度", "令和元年度", "令和10年度")
    assert w.short == "推進計画"  # no plan_short: the 2020 report says 推進計画
    assert [w.rating_label(v) for v in ("A", "AA", "その他", "終了", "未回答")] == ["A評価", "AA評価", "その他", "終了", "未回答"]
    assert [w.group_label(g) for g in t2020.groups] == ["1 目標一", "2 目標二"]
    assert [w.breakdown(d) for d in t2020.directions] == ["A:２ B:１", "A:１ その他:１", "AA:１", "C:１", "", "終了:２"]
    assert (w.rating_table_title, w.direction_table_title, w.group_table_title) == (
        "令和７年度における評価別集計表", "令和７年度における方向性別集計表", "基本目標別評価別件数（令和７年度）")
    # one digit full width, as the text: [DBNum3] under the Japanese locale (LibreOffice needs [$-411])
    assert (w.count_format, w.group_count_format, w.percent_column, w.pie_title) == (
        '[$-411][<10][DBNum3]0"施策";0"施策"', '[$-411][<10][DBNum3]0"件";0"件"', False, "事業数")
    assert [w.count(n) for n in (0, 3, 24)] == ["０施策", "３施策", "24施策"]
    assert [w.group_count(n) for n in (4, 13)] == ["４件", "13件"]


def test_2025_labels(s2025):
    w = Wording(s2025.survey)
    t = tally(s2025.survey, s2025.master, all_rated())
    assert w.this_year == "令和7年度" and w.previous_year == "令和6年度"
    assert w.rating_label("達成") == "達成"
    assert [w.group_label(g) for g in t.groups] == ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"]
    assert (w.rating_table_title, w.group_table_title) == ("令和7年度実績集計表", "基本方針別評価別件数（令和7年度）")
    assert (w.count_format, w.group_count_format, w.percent_column) == ('0"施策"', '0"施策"', True)
    assert [w.count(n) for n in (0, 3, 24)] == ["0施策", "3施策", "24施策"]
    assert w.pie_title == "令和7年度 評価別の施策数"
    assert w.pie_label("達成+", 5, 20) == "【達成+】, 5施策, 20%"


def test_2020_overall_quotes_each_definition_and_lists_non_zero_only(s2020, t2020):
    w = Wording(s2020.survey)
    assert w.shown_values(t2020) == ["AA", "A", "B", "C", "その他", "終了"]
    rating, direction = w.overall(t2020)
    assert rating == (
        "現在、推進計画においては、9施策を計画化している。令和７年度における各施策の評価としては、"
        "「区民満足度（区の評価）を著しく高めた取り組みがあった」AA評価が１施策、"
        "「計画どおり進捗しており、目標としている成果が上がっている」A評価が３施策、"
        "「概ね計画どおり進捗しているが、さらに工夫の余地がある」B評価が１施策、"
        "「実績が計画を下回っており、更なる努力又は計画の見直しが必要」C評価が１施策、"
        "「計画中止、国の計画変更など」のその他が１施策、"
        "「前年度以前に施策の方向性を「完了」とした施策」の終了が２施策という状況であり、これら以外の評価は０施策であった。")
    assert direction == ("また、計画の方向性については、「計画どおり推進」が３施策、「事業拡大」が２施策、「事業縮小」が１施策、"
                         "「計画修正」が１施策、「完了」が２施策であり、これら以外は０施策であった。")


def test_2020_overall_names_the_unanswered(s2020, answers2020):
    partial = {n: a for n, a in answers2020.items() if n not in ("1", "6")}
    t = tally(s2020.survey, s2020.master, partial)
    rating = Wording(s2020.survey).overall(t)[0]
    assert "A評価が２施策" in rating and "B評価" not in rating
    assert "、未回答が２施策という状況であり" in rating


def test_2020_group_headings_show_non_zero_counts_with_unranked_in_brackets(s2020, t2020):
    w = Wording(s2020.survey)
    assert [w.group_heading(i, g, t2020) for i, g in enumerate(t2020.groups)] == [
        "(1) 目標一（AA評価：１施策, A評価：１施策, C評価：１施策【終了：１施策】）",
        "(2) 目標二（A評価：２施策, B評価：１施策【その他：１施策】【終了：１施策】）"]


def test_2020_group_heading_without_answers_counts_ended_and_unanswered(s2020):
    t = tally(s2020.survey, s2020.master, {})
    assert [Wording(s2020.survey).group_heading(i, g, t) for i, g in enumerate(t.groups)] == [
        "(1) 目標一（【終了：１施策】【未回答：３施策】）", "(2) 目標二（【終了：１施策】【未回答：４施策】）"]


@pytest.mark.parametrize(("plan_end", "end"), [
    pytest.param(None, "期間満了までの", id="no-plan-end"),
    pytest.param(2027, "計画期間が満了する令和９年度までに", id="plan-end"),
])
def test_2020_conclusion(s2020, t2020, plan_end, end):
    import dataclasses

    survey = dataclasses.replace(s2020.survey, plan_end=plan_end)
    # C (lowest) and その他 (計画中止など): 2 of 9 answered are more than a tenth behind
    assert plain(Wording(survey).conclusion(t2020)) == (
        f"以上のことから、令和７年度末時点において、本推進計画は一部の施策に遅れが見られるものの取組を進めており、{end}"
        "各施策の着実な実現に向けて、引き続き進捗管理を行っていく。")


def test_2020_conclusion_after_the_plan_period_leaves_the_outlook_to_the_section(s2020, t2020):
    import dataclasses

    survey = dataclasses.replace(s2020.survey, plan_end=s2020.survey.fiscal_year)
    runs = Wording(survey).conclusion(t2020)
    assert "計画期間が満了する" not in plain(runs)
    assert [r.text for r in runs if isinstance(r, Placeholder)] == ["（今後の方針を記入）"]


@pytest.mark.parametrize("ratings", [
    pytest.param({}, id="nothing-answered"),
    pytest.param({"1": "未達成", "2": "未達成", "3": "未達成", "4": "未達成"}, id="all-behind"),
    pytest.param({"1": "達成", "2": "未達成", "3": "未達成", "4": "未達成"}, id="most-behind"),
])
def test_conclusion_without_a_judgement_the_numbers_support_is_a_placeholder(s2025, ratings):
    t = tally(s2025.survey, s2025.master, {n: {"評価": v} for n, v in ratings.items()})
    runs = Wording(s2025.survey).conclusion(t)
    assert "概ね計画どおり" not in plain(runs) and "一部の施策に遅れ" not in plain(runs)
    judgement = next(r for r in runs if isinstance(r, Placeholder))
    assert judgement.text == "（全体の評価を記入）" and "施策" in judgement.help


def test_2020_mostly_stopped_is_not_on_track(s2020):
    """その他 (計画中止、国の計画変更など) is not 計画どおり: 7 of 9 その他 support no judgement."""
    t = tally(s2020.survey, s2020.master, {n: {"評価": "その他", "方向性": "中止（休止）"}
                                          for n in ("1", "2", "3", "4", "5", "6", "9")})
    assert isinstance(Wording(s2020.survey).judgement(t), Placeholder)


def sentences(runs_list):
    return [plain(r) for r in runs_list]


def test_2020_change_sentences(s2020, t2020):
    w = Wording(s2020.survey)
    assert sentences(w.change_sentences(list(t2020.changes))) == [
        "令和６年度B評価であった【No.１ 施策1】は、（理由を記入）A評価に改善した。",
        "また、令和６年度A評価であった【No.２ 施策2】が、（理由を記入）C評価となった。",
        "また、令和６年度その他であった【No.３ 施策3】が、（理由を記入）A評価となった。",
        "また、令和６年度A評価であった【No.４ 施策4】が、（理由を記入）その他となった。",
        "また、令和６年度C評価であった【No.９ 施策9】は、（理由を記入）AA評価に改善した。"]
    # A → 終了 (完了 last year) is not a change to explain
    assert w.change_sentences([c for c in t2020.changes if c.current == "終了"]) == []


def test_changes_of_the_same_move_are_one_sentence_as_the_2020_report_writes_them(s2020):
    """「また、【No27 …】、【No40 …】、【No41 …】は、…A評価に改善した。」 (reference report, group ⑤)."""
    w = Wording(s2020.survey)
    changes = [Change("24", "全庁的な情報リテラシーの向上", "⑤", "C", "B", IMPROVED),
               Change("27", "EMSツール", "⑤", "B", "A", IMPROVED), Change("40", "RPA", "⑤", "B", "A", IMPROVED),
               Change("41", "AI", "⑤", "B", "A", IMPROVED)]
    seen = []
    got = w.change_sentences(changes, lambda cs: seen.append([c.measure for c in cs]) or "help")
    assert sentences(got) == [
        "令和６年度C評価であった【No.24 全庁的な情報リテラシーの向上】は、（理由を記入）B評価に改善した。",
        "また、令和６年度B評価であった【No.27 EMSツール】、【No.40 RPA】、【No.41 AI】は、（理由を記入）A評価に改善した。"]
    assert seen == [["24"], ["27", "40", "41"]]  # each placeholder's help is about its own measures
    assert [r for r in got[1] if isinstance(r, Placeholder)] == [Placeholder("（理由を記入）", "help")]


def test_a_change_with_its_reason_is_written_in_the_reports_words(s2020):
    """Issue 26 will bring the department's reason: 「…は、<reason>ことにより、A評価に改善した。」."""
    w = Wording(s2020.survey)
    got = w.change_sentences([Change("4", "新公会計システムの運用", "①", "B", "A", IMPROVED,
                                     reason="新公会計システムにて財務諸表を作成及び公表をすることができた")])
    assert sentences(got) == ["令和６年度B評価であった【No.４ 新公会計システムの運用】は、新公会計システムにて"
                              "財務諸表を作成及び公表をすることができたことにより、A評価に改善した。"]
    assert not [r for r in got[0] if isinstance(r, Placeholder)]


def test_2025_change_sentences(s2025):
    """「令和6年度に「達成」であった…」: the rating quoted, not run into the year (issue 24)."""
    w = Wording(s2025.survey)
    changes = [Change("2", "施策二", "Ⅰ", "達成", "達成+", IMPROVED), Change("3", "施策三", "Ⅱ", "達成", "未達成", DECLINED)]
    assert sentences(w.change_sentences(changes)) == [
        "令和6年度に「達成」であった【No.2 施策二】は、（理由を記入）「達成+」に改善した。",
        "また、令和6年度に「達成」であった【No.3 施策三】が、（理由を記入）「未達成」となった。"]


# --------------------------------------------------------------------------- scales other than the templates'

H25 = ["施策番号", "施策名", "基本方針", "所管課"]
RATING_2025 = """values = [
  { value = "達成+", definition = "{年度}計画の事業量を上回る実績となっている" },
  { value = "達成", definition = "{年度}計画の事業量の全部若しくは大部分を達成している、又は施策としては完了している" },
  { value = "未達成", definition = "施策の遅延等により、{年度}計画の事業量の全部若しくは大部分が達成されていない、又は施策として完了していない" },
]"""


def with_scale(tmp_path, values: str, n: int = 4):
    """A 2025-style survey whose rating scale is `values` (TOML), n measures in group Ⅰ."""
    def edit(text):
        assert RATING_2025 in text
        return text.replace(RATING_2025, values)
    return make_survey(tmp_path / "s", "2025", H25, [[i, f"施策{i}", "Ⅰ", "課A"] for i in range(1, n + 1)], edit)


def rated(*values: str) -> dict[str, dict[str, object]]:
    return {str(i): {"評価": v} for i, v in enumerate(values, 1) if v}


def test_2025_shows_every_ranked_value_and_unranked_ones_only_when_they_occur(tmp_path):
    s = with_scale(tmp_path, 'values = ["達成", "未達成", { value = "対象外", ranked = false }]')
    w = Wording(s.survey)
    t = tally(s.survey, s.master, rated("達成", "達成", "達成", "達成"))
    assert w.shown_values(t) == ["達成", "未達成"]  # 未達成 0 is news; 対象外 0 is not
    t = tally(s.survey, s.master, rated("達成", "対象外", "達成", ""))
    assert w.shown_values(t) == ["達成", "未達成", "対象外", UNANSWERED]
    assert w.group_heading(0, t.groups[0], t) == "(1) 基本方針Ⅰ：業務の改善・効率化（達成：2施策、未達成：0施策、対象外：1施策、未回答：1施策）"


@pytest.mark.parametrize(("values", "answers", "on_track"), [
    pytest.param('values = ["実施", { value = "未実施", ranked = false }]', ("実施",) * 4, True, id="one-ranked-value-all-rated"),
    pytest.param('values = ["実施", { value = "未実施", ranked = false }]', ("実施", "", "", ""), True, id="one-ranked-value-few-answers"),
    pytest.param('values = ["実施", "未実施"]', ("実施", "実施", "実施", "未実施"), False, id="two-ranked-one-behind"),
    pytest.param('values = ["実施", "未実施"]', ("実施", "実施", "実施", "実施"), True, id="two-ranked-none-behind"),
])
def test_conclusion_with_other_scales(tmp_path, values, answers, on_track):
    s = with_scale(tmp_path, values)
    t = tally(s.survey, s.master, rated(*answers))
    state = "概ね計画どおり実施されており" if on_track else "一部の施策に遅れが見られるものの取組を進めており"
    assert state in plain(Wording(s.survey).conclusion(t))


@pytest.mark.parametrize(("behind", "unanswered", "on_track"), [
    pytest.param(2, 5, True, id="exactly-a-tenth-of-20-answered"),
    pytest.param(2, 6, False, id="more-than-a-tenth-of-19-answered"),
])
def test_conclusion_threshold_counts_the_answered_only(example, behind, unanswered, on_track):
    loaded, answers = example
    numbers = [m.number for m in loaded.master.measures]
    changed = {n: {**answers[n], "評価": "未達成" if i < behind else "達成"}
               for i, n in enumerate(numbers) if i < len(numbers) - unanswered}
    t = tally(loaded.survey, loaded.master, changed)
    assert t.total - len(t.missing) == 25 - unanswered
    state = "概ね計画どおり実施されており" if on_track else "一部の施策に遅れが見られるものの取組を進めており"
    assert state in plain(Wording(loaded.survey).conclusion(t))


def test_2020_overall_without_definitions(s2020, t2020):
    import dataclasses

    scale = s2020.survey.rating_scale
    bare = dataclasses.replace(scale, values=tuple(dataclasses.replace(v, definition="") for v in scale.values))
    survey = dataclasses.replace(s2020.survey, scales={**s2020.survey.scales, scale.key: bare})
    rating = Wording(survey).overall(t2020)[0]
    assert "評価としては、AA評価が１施策、A評価が３施策、B評価が１施策、C評価が１施策、その他が１施策、終了が２施策という状況" in rating


def test_2020_group_without_measures_has_no_counts(tmp_path):
    s = make_survey(tmp_path / "s", "2020", ["施策番号", "施策名", "基本目標", "所管課"], [[1, "A", "①", "課A"]],
                    lambda t: t.replace("[[fields]]", '[[groups]]\nid = "①"\nname = "目標一"\n\n[[groups]]\n'
                                                      'id = "②"\nname = "目標二"\n\n[[fields]]', 1))
    t = tally(s.survey, s.master, {"1": {"評価": "A", "方向性": "事業拡大"}})
    w = Wording(s.survey)
    assert [w.group_heading(i, g, t) for i, g in enumerate(t.groups)] == ["(1) 目標一（A評価：１施策）", "(2) 目標二"]


# --------------------------------------------------------------------------- the draft report's frame

def test_2020_report_frame(s2020, t2020):
    lines = report_lines(s2020.survey, s2020.master, t2020)
    assert [text for style, text in lines if style in ("title", "heading")] == [
        "「ICT推進計画2020」における令和７年度実績報告について", "１ 実績報告の趣旨", "２ 全体評価",
        "３ 各基本目標別の実施結果", "４ 今後の予定"]
    body = [text for style, text in lines if style == "body"]
    assert body[0] == ("「ICT推進計画2020」（以下、「推進計画」という。）では、推進施策の着実な進捗状況確認を行うため、"
                       "各推進施策の取組状況について年１回調査を実施し、その結果をホームページ上で公開することとなっている。")
    # the tables and the pie are blocks of the report, not a note to the clerk in its text
    assert [(style, text) for style, text in lines if style in ("caption", "table", "chart")] == [
        ("caption", "令和７年度における評価別集計表"), ("table", "令和７年度における評価別集計表"),
        ("caption", "令和７年度における方向性別集計表"), ("table", "令和７年度における方向性別集計表"),
        ("chart", "事業数"), ("table", "")]
    assert not [text for _style, text in lines if "シート" in text]


def test_2020_report_without_directions_has_no_direction_table(s2020, t2020):
    import dataclasses

    t = dataclasses.replace(t2020, directions=())
    assert [text for style, text in report_lines(s2020.survey, s2020.master, t) if style == "caption"] == [
        "令和７年度における評価別集計表"]


@pytest.mark.parametrize(("plan_short", "opening"), [
    pytest.param("ICT計画", "「ICT推進・活用計画2025」（以下、「ICT計画」という。）の各推進施策の令和7年度における取組状況について報告を行う。",
                 id="short-name-introduced"),
    pytest.param("", "「ICT推進・活用計画2025」の各推進施策の令和7年度における取組状況について報告を行う。", id="no-short-name"),
])
def test_2025_report_frame(s2025, plan_short, opening):
    import dataclasses

    survey = dataclasses.replace(s2025.survey, plan_short=plan_short)
    t = tally(survey, s2025.master, all_rated())
    lines = report_lines(survey, s2025.master, t)
    assert [text for style, text in lines if style in ("title", "heading")] == [
        "「ICT推進・活用計画2025」令和7年度実績報告について", "1 令和7年度実績報告概要", "2 基本方針に対する令和7年度実績",
        "3 今後の予定"]
    assert ("subheading", "集計結果") in lines and ("caption", "令和7年度実績集計表") in lines
    body = [text for style, text in lines if style == "body"]
    assert body[0] == opening
    assert not [text for _style, text in lines if "シート" in text]


# --------------------------------------------------------------------------- 主な成果 and the group sections

def test_achievements_come_from_the_master_in_master_order_per_group(example, example_tally):
    loaded, _ = example
    s, m = loaded.survey, loaded.master
    assert report.achievements(s, m, example_tally, "Ⅱ") == [
        "マイナンバーカードによる諸証明の交付率向上", "ぴったりサービスにおける検索可能な手続きの拡大"]
    assert report.achievements(s, m, example_tally, "Ⅳ") == [
        "データ利活用に向けた庁内データの環境整備", "データを用いた区政経営の推進", "各種広報ツールの活用拡大"]
    assert report.achievements(s, m, example_tally, "Ⅴ") == []


def _with_achievement_field(loaded, answers, field, master_text=None):
    import dataclasses

    survey = dataclasses.replace(loaded.survey, achievement_field=field)
    measures = tuple(dataclasses.replace(x, achievement=master_text(x) if master_text else x.achievement)
                     for x in loaded.master.measures)
    master = dataclasses.replace(loaded.master, measures=measures)
    return survey, master, tally(survey, master, answers)


def test_achievements_fall_back_to_the_form_field_where_the_master_has_none(example):
    loaded, answers = example
    edited = {n: dict(a) for n, a in answers.items()}
    edited["12"]["取組実績"] = "  窓口の案内を改善した  "  # stripped
    edited["15"]["取組実績"] = ""  # blank: no item
    edited["13"]["取組実績"] = "フォームの文は使わない"  # the master's entry wins
    survey, master, t = _with_achievement_field(loaded, edited, "取組実績")
    assert report.achievements(survey, master, t, "Ⅱ") == [
        "窓口の案内を改善した", "マイナンバーカードによる諸証明の交付率向上",
        "ぴったりサービスにおける検索可能な手続きの拡大"]
    # without the setting, only the master's column counts
    assert report.achievements(loaded.survey, loaded.master, tally(loaded.survey, loaded.master, edited), "Ⅱ") == [
        "マイナンバーカードによる諸証明の交付率向上", "ぴったりサービスにおける検索可能な手続きの拡大"]


def test_achievements_from_a_number_field_are_written_as_text(example):
    loaded, answers = example
    edited = {n: dict(a) for n, a in answers.items()}
    for n in ("12", "13", "14", "15"):
        edited[n]["実績値"] = None
    edited["14"]["実績値"] = 42
    survey, master, t = _with_achievement_field(loaded, edited, "実績値", master_text=lambda x: "")
    assert report.achievements(survey, master, t, "Ⅱ") == ["42"]


def test_each_group_section_lists_its_achievements_after_its_heading(example, example_tally):
    loaded, _ = example
    lines = report_lines(loaded.survey, loaded.master, example_tally)
    start = lines.index(("subheading", "(2) 基本方針Ⅱ：マイナンバーカードの普及・活用（達成+：1施策、達成：2施策、未達成：1施策）"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i][0] == "subheading")
    section = lines[start + 1:end]
    assert section == [("body", "（取組の概要を記入）"), ("label", "＜主な成果＞"),
                       ("item", "・マイナンバーカードによる諸証明の交付率向上"),
                       ("item", "・ぴったりサービスにおける検索可能な手続きの拡大")]
    assert [style for style, _ in lines].count("subheading") == 5  # 集計結果 and the four groups


def test_a_group_without_achievements_has_no_achievement_heading(example):
    loaded, answers = example
    survey, master, t = _with_achievement_field(loaded, answers, None,
                                                master_text=lambda x: "成果" if x.group == "Ⅰ" else "")
    rep = report.build(survey, master, t)
    lines = flat(rep)
    # every group of the 2025 report has its ＜主な成果＞: where none is known, a placeholder
    assert [text for _style, text in lines].count("＜主な成果＞") == 4
    assert [text for style, text in lines if style == "item"] == ["・成果"] * 11 + ["・（主な成果を記入）"] * 3
    empty = [p for p in rep.placeholders() if p.text == "（主な成果を記入）"]
    # its help names the group's highest-rated measures (Ⅱ: No.13 達成+), with their 取組実績
    assert empty[0].help.split("\n\n")[1].startswith("No.13 マイナンバーカードによる諸証明の交付率向上（戸籍住民課）【達成+】\n取組実績：")


# --------------------------------------------------------------------------- summarize --json (DESIGN §7)

def test_as_json_is_the_whole_tally_under_its_documented_keys(s2020, answers2020):
    partial = {n: a for n, a in answers2020.items() if n not in ("5", "6")}
    t = tally(s2020.survey, s2020.master, partial, invalid=frozenset({"6"}))
    data = t.as_json(s2020.survey)
    assert list(data) == ["fiscal_year", "total", "ratings", "directions", "groups", "changes", "missing"]
    assert data["fiscal_year"] == t.fiscal_year == s2020.survey.fiscal_year
    assert data["total"] == 9
    assert data["ratings"][0] == {"value": "AA", "count": 1, "percent": t.ratings[0].percent}
    assert [r["value"] for r in data["ratings"]] == [r.value for r in t.ratings]
    assert data["groups"] == [{"id": g.id, "name": g.name, "total": g.total, "ratings": g.ratings} for g in t.groups]
    assert data["groups"][0]["id"] == "1" and data["groups"][0]["name"]
    assert data["changes"][0] == {"measure": "1", "name": "施策1", "group": "1", "previous": "B",
                                  "current": "A", "trend": IMPROVED, "reason": None}  # none given
    assert [c["measure"] for c in data["changes"]] == ["1", "2", "3", "4", "7", "9"]
    assert data["missing"] == [
        {"measure": "5", "name": "施策5", "department": "課A", "reason": "unanswered"},
        {"measure": "6", "name": "施策6", "department": "課B", "reason": "needs_fix"}]


@pytest.mark.parametrize(("previous", "current"), [("A", ""), ("", "A"), ("A", "未回答"), ("", "")])
def test_no_trend_when_either_year_has_no_rating(s2020, previous, current):
    assert trend(s2020.survey, previous, current) == ""


def _sections(lines):
    """{subheading: the lines under it, up to the next subheading}."""
    out, current = {}, None
    for style, text in lines:
        if style == "subheading":
            current = out.setdefault(text, [])
        elif style in ("heading", "table"):
            current = None
        elif current is not None:
            current.append((style, text))
    return out


def test_2020_each_group_section_has_its_own_changes(s2020, t2020):
    sections = list(_sections(report_lines(s2020.survey, s2020.master, t2020)).values())
    assert len(sections) == len(t2020.groups) == 2
    assert sections[0] == [
        ("body", "令和６年度B評価であった【No.１ 施策1】は、（理由を記入）A評価に改善した。"),
        ("body", "また、令和６年度A評価であった【No.２ 施策2】が、（理由を記入）C評価となった。"),
        ("body", "また、令和６年度C評価であった【No.９ 施策9】は、（理由を記入）AA評価に改善した。")]
    # group 2: その他 → A and A → その他 are told (never 「同様の評価」, issue 22), and No.6 has no
    # rating of last year to compare: its part is for the section to write
    assert sections[1] == [
        ("body", "令和６年度その他であった【No.３ 施策3】が、（理由を記入）A評価となった。"),
        ("body", "また、令和６年度A評価であった【No.４ 施策4】が、（理由を記入）その他となった。"),
        ("body", "（実施結果を記入）")]


def test_2020_without_last_years_ratings_no_comparison_is_written(s2020, answers2020):
    import dataclasses

    master = dataclasses.replace(s2020.master, measures=tuple(
        dataclasses.replace(m, previous_rating="", previous_direction="") for m in s2020.master.measures))
    t = tally(s2020.survey, master, answers2020)
    rep = report.build(s2020.survey, master, t)
    sections = _sections(flat(rep))
    assert list(sections.values()) == [[("body", "（実施結果を記入）")]] * 2
    assert "同様" not in str(flat(rep))
    helps = [p.help for p in rep.placeholders() if p.text == "（実施結果を記入）"]
    assert helps[0].startswith("■ 前年度の評価がない施策（比較できません）\n\nNo.1 施策1（課A）【A評価】")
