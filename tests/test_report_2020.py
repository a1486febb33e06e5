"""The 2020-style summary against its reference report, sentence for sentence.

The reference year (令和元年度, compared with 平成30年度) is rebuilt as a survey
(tests/reference2020.py), its forms filled and collected through the CLI; every sentence and
table of the report that follows from the numbers must be found in the report's text.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests import reference2020 as R
from tests.support.reference import REPORT_2020, norm, reference_path
from tests.survey_helpers import forms_of
from xlsx_tool.cli import cli
from xlsx_tool.define.master import load
from xlsx_tool.demo import fill_form

# Built on a whole yearly cycle in a module fixture (seconds under mutmut); see pyproject.toml.
pytestmark = pytest.mark.cycle

@pytest.fixture(scope="module")
def reference() -> str:
    return norm(reference_path(REPORT_2020).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ref2020") / "survey"
    answers = R.build(folder)
    loaded, problems = load(folder)
    assert loaded is not None and not [p for p in problems if p.is_error], [p.text() for p in problems]
    for form in forms_of(loaded):
        fill_form(form, folder / "2_回収" / form.name, answers)
    runner = CliRunner()
    collected = runner.invoke(cli, ["collect", str(folder)])
    assert collected.exit_code == 0, collected.output
    res = runner.invoke(cli, ["summarize", str(folder), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    book = openpyxl.load_workbook(data["output"], data_only=True)
    lines = [str(r[0]) for r in book["報告文案"].iter_rows(values_only=True) if r[0]]
    return data, book, lines


def test_numbers(summary):
    data, _book, _lines = summary
    assert data["total"] == 41
    assert [(r["value"], r["count"], r["percent"]) for r in data["ratings"]] == [
        ("AA", 0, 0), ("A", 24, 59), ("B", 14, 34), ("C", 0, 0), ("その他", 0, 0), ("終了", 3, 7)]
    directions = {d["value"]: (d["count"], d["breakdown"]) for d in data["directions"]}
    assert directions["計画どおり推進"] == (36, {"A": 23, "B": 13})
    assert directions["計画修正"] == (1, {"B": 1})
    assert directions["完了"] == (4, {"A": 1, "終了": 3})  # 終了 counted in 完了's 内訳
    changes = {(c["measure"], c["previous"], c["current"], c["trend"]) for c in data["changes"]}
    assert changes == {("4", "B", "A", "improved"), ("36", "B", "A", "improved"), ("21", "B", "A", "improved"),
                       ("24", "C", "B", "improved"), ("27", "B", "A", "improved"), ("40", "B", "A", "improved"),
                       ("41", "B", "A", "improved"), ("35", "A", "B", "declined"),
                       ("14", "A", "終了", "unranked"), ("15", "A", "終了", "unranked"),
                       ("33", "A", "終了", "unranked")}


def test_report_sentences_follow_the_reference(summary, reference):
    _data, _book, lines = summary
    text = {norm(line) for line in lines}
    wanted = [
        "「板橋区ICT推進・活用計画2020」における令和元年度実績報告について",
        "令和元年度における各推進施策の取組状況について調査が完了したため、報告を行う。",
        "２ 全体評価",
        "令和元年度における各施策の評価としては、「計画どおり進捗しており、目標としている成果が上がっている」A評価が24施策、"
        "「概ね計画どおり進捗しているが、さらに工夫の余地がある」B評価が14施策、「前年度以前に施策の方向性を「完了」とした"
        "施策」の終了が３施策という状況であり、これら以外の評価は０施策であった。",
        "また、計画の方向性については、「計画どおり推進」が36施策、「計画修正」が１施策、「完了」が４施策であり、これら以外は０施策であった。",
        "以上のことから、令和元年度末時点において、本推進計画は概ね計画どおり実施されており、計画期間が満了する令和２年度までに"
        "各施策の着実な実現に向けて、引き続き進捗管理を行っていく。",
        "(1) 開かれた区政の実現（A評価：４施策）",
        "(2) 区民サービスの向上（A評価：６施策, B評価：５施策【終了：２施策】）",
        "(3) 情報セキュリティの強化（A評価：２施策, B評価：１施策）",
        "(5) 行政事務の効率化（A評価：９施策, B評価：５施策【終了：１施策】）",
        "(6) 計画に関する進捗管理（B評価：２施策）",
        "平成30年度と比較しても同様の評価であるため、順調に進捗していることが分かる。",
    ]
    for sentence in wanted:
        assert norm(sentence) in reference, sentence  # the expectation really is the report's
        assert any(norm(sentence) in line for line in text), sentence
    # the report itself writes ④ as 安全・安心 in its table and 安心・安全 in the heading
    assert "(4) 安全・安心の向上（A評価：３施策, B評価：１施策）" in lines
    # exactly as printed: single digits full width, two digits half width
    assert "(2) 区民サービスの向上（A評価：６施策, B評価：５施策【終了：２施策】）" in lines


def test_change_sentences_carry_the_departments_reasons(summary, reference):
    """Each department typed its reason on the form (the reference's own words): the sentence is the
    report's 「…は、<reason>ことにより、A評価に改善した。」, No.27, 40 and 41 joined as the report joins
    them, since one reason covers them."""
    _data, _book, lines = summary
    first = ("平成30年度B評価であった【No.４ 新公会計システムの運用】は、新公会計システムにて財務諸表を作成及び公表を"
             "することができたことにより、A評価に改善した。")
    # group ⑤: C → B first, then the three B → A in one sentence, as the report writes them
    second = "平成30年度C評価であった【No.24 全庁的な情報リテラシーの向上】は、指標①の実績値が大きく伸びたことにより、B評価に改善した。"
    three = ("また、平成30年度B評価であった【No.27 EMSツールを活用した環境データの一元管理】、【No.40 RPAを活用した"
             "業務効率化の推進】、【No.41 AIを活用したシステムの導入】は、着実に検討が進み、計画どおりのスケジュールで"
             "進捗しており、A評価に改善した。")
    declined = ("平成30年度A評価であった【No.35 板橋区教育ICT化推進計画の進捗管理】が、国の新たな動きに対応する必要が"
                "出てきた影響により、B評価となった。")
    kept = ("平成30年度B評価であった【No.21 障害時緊急対応手順の運用】は、平成30年度から引き続き指標の目標を100％で"
            "維持しているため、A評価に改善した。")  # a reason saying why already: 「ため、」, as the report
    for sentence in (first, second, three, declined, kept):
        assert sentence in lines, sentence
        for piece in R.pieces(sentence):
            assert norm(piece) in reference, piece  # the wording really is the report's
    assert lines.index(three) == lines.index(second) + 1
    assert not any("（理由を記入）" in line for line in lines)
    assert not any("No.14" in line for line in lines)  # A → 終了 is not a change to explain


def test_tables_follow_the_reference(summary, reference):
    _data, book, _lines = summary
    ws = book["評価別集計表"]
    assert ws["A1"].value == "令和元年度における評価別集計表" and norm(ws["A1"].value) in reference
    rows = [[c for c in r] for r in ws.iter_rows(min_row=4, max_row=9, max_col=3, values_only=True)]
    assert [r[0] for r in rows] == ["AA評価", "A評価", "B評価", "C評価", "その他", "終了"]
    for label, definition, count in rows:
        assert norm(f"{label}{definition}{count}施策") in reference, label
    assert ws.max_column == 3  # no 割合 and no helper column beside the table, as in the report
    ws = book["方向性別集計表"]
    assert ws["A1"].value == "令和元年度における方向性別集計表"
    assert [ws.cell(3, c).value for c in (1, 2, 3)] == ["施策の方向性", "該当施策", "内訳"]
    # the count a number (a corrected count flows into every total), the 内訳 text beside it
    cells = {ws.cell(r, 1).value: (ws.cell(r, 2).value, ws.cell(r, 2).number_format, ws.cell(r, 3).value)
             for r in range(4, 10)}
    digits = '[$-411][<10][DBNum3]0"施策";0"施策"'  # 「３施策」 and 「24施策」, as the report's text
    assert cells["計画どおり推進"] == (36, digits, "A:23 B:13")
    assert cells["計画修正"] == (1, digits, "B:１")
    assert cells["完了"] == (4, digits, "A:１ 終了:３")
    assert cells["事業拡大"] == (0, digits, None)
    for value, (count, _fmt, breakdown) in cells.items():
        shown = f"{count}施策" + (f"(内訳 {breakdown})" if breakdown else "")
        assert norm(f"{value}{shown}") in reference, value
    ws = book["基本目標別集計表"]
    body = [r for r in ws.iter_rows(min_row=4, max_row=10, values_only=True)]
    assert [r[0] for r in body] == ["① 開かれた区政の実現", "② 区民サービスの向上", "③ 情報セキュリティの強化",
                                    "④ 安全・安心の向上", "⑤ 行政事務の効率化", "計画に関する進捗管理", "合  計"]
    for row in body:
        assert norm(row[0] + "".join(f"{n}件" for n in row[1:8])) in reference, row
    labels = [book["_グラフ"].cell(r, 4).value for r in range(2, 8)]
    for label in ("【A】, 24施策, 59%", "【B】, 14施策, 34%", "【終了】, 3施策, 7%"):
        assert label in labels and norm(label) in reference


def test_console_table_is_the_workbooks(summary):
    """The 2020 table has no 割合 and labels its rows 「A評価」: the console says it as the workbook does."""
    data, book, _lines = summary
    folder = Path(data["output"]).parents[1]
    res = CliRunner().invoke(cli, ["summarize", str(folder)])
    assert res.exit_code == 0, res.output
    rows = [line.split() for line in res.stdout.splitlines()]
    sheet = book["評価別集計表"]
    assert sheet["A1"].value in res.stdout  # 「令和元年度における評価別集計表」
    assert ["施策の評価", "該当施策"] in rows and not any("割合" in r or "計" in r for r in rows)
    assert ["A評価", "24施策"] in rows and ["終了", "3施策"] in rows
    assert sheet["A5"].value == "A評価"
