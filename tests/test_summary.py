"""End to end: demo / summarize through the CLI, the summary workbook 集計結果.xlsx read back
with openpyxl, python-calamine and as raw XML, checked against the real report the bundled
example reproduces (/work/shared/reference/000_9b3ef0f0b9a2c4da.txt).

The reference text comes from a PDF: it has stray spaces ('令和 3 年度', '5 施策') and mixes
full- and half-width forms ('(1)' / '（3）', '達成+' / '達成＋', '<主な成果>' / '＜主な成果＞'),
so texts are compared after NFKC normalisation with all white space removed (`norm`).
"""

from __future__ import annotations

import csv
import inspect
import json
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.support.reference import REPORT_2025, norm, reference_path
from tests.survey_helpers import fill_placeholders
from tests.survey_helpers import forms_of as generate
from xlsx_tool.cli import cli
from xlsx_tool.collect.run import collect
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import load
from xlsx_tool.demo import fill_form
from xlsx_tool.summarize.run import summarize

# Built on a whole yearly cycle in a module fixture (seconds under mutmut); see pyproject.toml.
pytestmark = pytest.mark.cycle

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = "集計結果.xlsx"
RATINGS, GROUPS, MEASURES, REPORT = "評価別集計表", "基本方針別集計表", "全施策一覧", "報告文案"
CHART_DATA = "_グラフ"
NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart"}
FORMULA_TEXT = '=HYPERLINK("http://example.com","x")'


def runner() -> CliRunner:
    """stdout and stderr kept apart: click < 8.2 needs mix_stderr=False, 8.2+ always does it."""
    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def find_row(rows: list[list[object]], first: str) -> int:
    return next(i for i, r in enumerate(rows) if r and r[0] == first)


def chart_xmls(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist()
                if re.fullmatch(r"xl/charts/chart\d+\.xml", n)}


def unquote_ref(ref: str) -> str:
    """「'評価別集計表'!$C$4:$C$6」 and 「評価別集計表!$C$4:$C$6」 are the same reference."""
    sheet, _, cells = ref.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return f"{sheet}!{cells}"


def pie_of(path: Path) -> ET.Element:
    pies = [ET.fromstring(x.encode()) for x in chart_xmls(path).values() if "<c:pieChart>" in x]
    assert len(pies) == 1
    return pies[0]


def deleted_label_indexes(ser: ET.Element) -> set[int]:
    return {int(d.find("c:idx", NS).get("val")) for d in ser.findall("c:dLbls/c:dLbl", NS)
            if d.find("c:delete", NS) is not None and d.find("c:delete", NS).get("val") == "1"}


# --------------------------------------------------------------------------- the demo (ICT2025)

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "demo-survey"
    result = runner().invoke(cli, ["demo", str(folder)])
    return folder, result


@pytest.fixture(scope="module")
def demo_book(demo) -> Path:
    folder, result = demo
    assert result.exit_code == 0, result.output
    path = folder / S.OUTPUT_DIR / SUMMARY
    assert path.is_file()
    return path


@pytest.fixture(scope="module")
def demo_json(demo, demo_book):
    folder, _ = demo
    result = runner().invoke(cli, ["summarize", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def wb(demo_book):
    """The workbook's values as written (openpyxl data_only: the cached results of formulas)."""
    return openpyxl.load_workbook(demo_book, data_only=True)


@pytest.fixture(scope="module")
def formulas(demo_book):
    return openpyxl.load_workbook(demo_book)


@pytest.fixture(scope="module")
def calamine_book(demo_book):
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(demo_book))


@pytest.fixture(scope="module")
def reference() -> list[str]:
    text = reference_path(REPORT_2025).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def report_lines(wb) -> list[str]:
    return [str(r[0]) for r in wb[REPORT].iter_rows(min_col=1, max_col=1, values_only=True)
            if r[0] not in (None, "")]


def test_demo_exits_0_and_prints_the_rating_table(demo):
    _folder, result = demo
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "令和3年度実績集計表" in out  # the workbook's title, as the reference report has it
    rows = [line.split() for line in out.splitlines()]
    for row in (["達成+", "5施策", "20%"], ["達成", "19施策", "76%"], ["未達成", "1施策", "4%"], ["計", "25施策", "100%"]):
        assert row in rows, out
    # columns line up on screen: full-width text counts two columns
    from xlsx_tool.textnorm import display_width
    table = [line for line in out.splitlines() if line.split()[:1] in (["施策の評価"], ["達成+"], ["計"])]
    starts = {display_width(line[: line.index(line.split()[1], len(line.split()[0]))]) for line in table}
    assert len(starts) == 1, table


def test_summarize_json(demo_json, demo_book):
    d = demo_json
    assert d["fiscal_year"] == 2021
    assert d["total"] == 25
    assert d["ratings"] == [
        {"value": "達成+", "count": 5, "percent": 20},
        {"value": "達成", "count": 19, "percent": 76},
        {"value": "未達成", "count": 1, "percent": 4},
    ]
    assert [(g["id"], g["name"], g["total"], g["ratings"]) for g in d["groups"]] == [
        ("Ⅰ", "業務の改善・効率化", 11, {"達成+": 3, "達成": 8, "未達成": 0}),
        ("Ⅱ", "マイナンバーカードの普及・活用", 4, {"達成+": 1, "達成": 2, "未達成": 1}),
        ("Ⅲ", "オンライン化の促進", 4, {"達成+": 1, "達成": 3, "未達成": 0}),
        ("Ⅳ", "データの利活用", 6, {"達成+": 0, "達成": 6, "未達成": 0}),
    ]
    assert d["directions"] == []
    assert d["changes"] == []
    assert d["missing"] == []
    assert Path(d["output"]).resolve() == demo_book.resolve()


def test_sheet_names(wb):
    assert wb.sheetnames == [RATINGS, GROUPS, MEASURES, REPORT, CHART_DATA]
    assert wb[CHART_DATA].sheet_state == "hidden"  # the pie's labels: nothing printed beside a table


# --------------------------------------------------------------------------- against the report

def test_report_sentences_are_in_the_draft(reference, report_lines):
    have = {norm(line) for line in report_lines}
    wanted = [
        reference[0],  # title
        next(x for x in reference if "（以下、" in x),  # the plan and its short name
        next(x for x in reference if x.startswith("1 ") and x.endswith("実績報告概要")),
        next(x for x in reference if x.startswith("現在、")),
        next(x for x in reference if x.startswith("以上のことから")),
        next(x for x in reference if x.startswith("2 ") and "基本方針に対する" in x),
        next(x for x in reference if "に掲げた基本方針別に" in x),
    ]
    assert norm(wanted[0]) == norm("「板橋区 ICT推進・活用計画2025」令和3年度実績報告について")
    assert norm(wanted[3]) == norm(
        "現在、25施策を計画化しており、令和3年度における各施策の実績としては、「達成+」が5施策、"
        "「達成」が19施策、「未達成」が1施策であった。")
    assert norm(wanted[4]) == norm(
        "以上のことから、令和3年度末時点においてICT計画2025は概ね計画どおり実施されており、"
        "期間満了までの各施策の着実な実現に向けて、引き続き進捗管理を行っていく。")
    for text in wanted:
        assert norm(text) in have, text


HEADING = re.compile(r"^\((\d)\)基本方針")


def reference_sections(reference: list[str]) -> dict[int, tuple[str, list[str]]]:
    """(n) -> (heading with its counts, <主な成果> items) from the reference report."""
    sections: dict[int, tuple[str, list[str]]] = {}
    current = None
    lines = [norm(x) for x in reference]
    for i, line in enumerate(lines):
        m = HEADING.match(line)
        if m:
            heading = line
            if not heading.endswith("施策)"):  # (2) prints its counts on the next line
                heading += lines[i + 1]
            current = int(m.group(1))
            sections[current] = (heading, [])
        elif current and line.startswith("-・"):
            sections[current][1].append(line[len("-・"):])
        elif line.startswith("3今後の予定"):
            current = None
    return sections


def draft_sections(report_lines: list[str]) -> dict[int, tuple[str, list[str]]]:
    sections: dict[int, tuple[str, list[str]]] = {}
    current = None
    for line in map(norm, report_lines):
        m = HEADING.match(line)
        if m:
            current = int(m.group(1))
            sections[current] = (line, [])
        elif current and line.startswith("・"):
            sections[current][1].append(line[1:])
    return sections


def test_group_headings_and_achievements_match_the_report(reference, report_lines):
    ref = reference_sections(reference)
    draft = draft_sections(report_lines)
    assert sorted(ref) == [1, 2, 3, 4]
    assert ref[1][0] == norm("(1) 基本方針Ⅰ：業務の改善・効率化（達成+：3施策、達成：8施策、未達成：0施策）")
    assert ref[2][0] == norm("(2) 基本方針Ⅱ：マイナンバーカードの普及・活用（達成+：1施策、達成：2施策、未達成：1施策）")
    assert sorted(draft) == [1, 2, 3, 4]
    for n in (1, 2, 3, 4):
        heading, items = ref[n]
        assert draft[n][0] == heading, n
        assert items, n
        assert draft[n][1] == items, n
    assert sum("主な成果" in line for line in report_lines) == 4


# --------------------------------------------------------------------------- 評価別集計表

EXPECTED_RATINGS = [("達成+", 5, 0.2), ("達成", 19, 0.76), ("未達成", 1, 0.04)]
HEADERS = ["施策の評価", "評価の内容", "該当施策", "割合"]


def reference_rating_table(reference: list[str]) -> dict[str, tuple[str, int, int]]:
    rows = {}
    for line in reference:
        cells = line.split("\t")
        if len(cells) == 4 and cells[0] in ("達成+", "達成", "未達成", "計"):
            count = int(norm(cells[2]).removesuffix("施策"))
            percent = int(norm(cells[3]).removesuffix("%"))
            rows[cells[0]] = (norm(cells[1]), count, percent)
    return rows


def test_rating_table_openpyxl(wb, formulas, reference):
    ws = wb[RATINGS]
    assert norm(ws["A1"].value) in {norm(x) for x in reference}  # 令和3年度実績集計表
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    head = find_row(rows, "施策の評価")
    assert rows[head][:4] == HEADERS
    ref = reference_rating_table(reference)
    assert list(ref) == ["達成+", "達成", "未達成", "計"]
    for i, (value, count, share) in enumerate(EXPECTED_RATINGS):
        r = head + 2 + i  # 1-based worksheet row
        assert ws.cell(r, 1).value == value
        assert norm(ws.cell(r, 2).value) == ref[value][0]
        c, p = ws.cell(r, 3), ws.cell(r, 4)
        assert is_number(c.value) and c.value == count == ref[value][1]
        assert c.data_type == "n"
        assert c.number_format == '0"施策"'
        assert is_number(p.value) and p.value == pytest.approx(share)
        assert round(p.value * 100) == ref[value][2]
        assert p.number_format == "0%"
        assert formulas[RATINGS].cell(r, 4).value.startswith("=IF(")  # 割合 follows the counts
    total = head + 2 + len(EXPECTED_RATINGS)
    assert ws.cell(total, 1).value == "計"
    assert ws.cell(total, 3).value == 25 == ref["計"][1]
    assert ws.cell(total, 3).number_format == '0"施策"'
    assert ws.cell(total, 4).value == 1 and ws.cell(total, 4).number_format == "0%"
    assert formulas[RATINGS].cell(total, 3).value == f"=SUM(C{head + 2}:C{total - 1})"


@pytest.mark.calamine
def test_rating_table_calamine(calamine_book, reference):
    assert calamine_book.sheet_names == [RATINGS, GROUPS, MEASURES, REPORT, CHART_DATA]
    rows = calamine_book.get_sheet_by_name(RATINGS).to_python()
    head = find_row(rows, "施策の評価")
    assert rows[head][:4] == HEADERS
    ref = reference_rating_table(reference)
    body = rows[head + 1: head + 1 + len(EXPECTED_RATINGS)]
    for row, (value, count, share) in zip(body, EXPECTED_RATINGS, strict=True):
        assert row[0] == value
        assert norm(row[1]) == ref[value][0]
        assert is_number(row[2]) and row[2] == count
        assert is_number(row[3]) and row[3] == pytest.approx(share)
    total = rows[head + 1 + len(EXPECTED_RATINGS)]
    assert total[0] == "計" and is_number(total[2]) and total[2] == 25


def test_pie_labels_are_formulas_on_the_hidden_sheet(wb, formulas):
    ws = wb[CHART_DATA]
    assert [ws.cell(r, 4).value for r in (2, 3, 4)] == [
        "【達成+】, 5施策, 20%", "【達成】, 19施策, 76%", "【未達成】, 1施策, 4%"]
    assert formulas[CHART_DATA].cell(2, 2).value == f"='{RATINGS}'!C4"  # the table's count
    assert formulas[RATINGS].max_column == 4  # nothing beside the report's table


# --------------------------------------------------------------------------- group sheet

@pytest.mark.calamine
def test_group_sheet(wb, calamine_book):
    expected = [("Ⅰ", 11, 3, 8, 0), ("Ⅱ", 4, 1, 2, 1), ("Ⅲ", 4, 1, 3, 0), ("Ⅳ", 6, 0, 6, 0),
                ("合計", 25, 5, 19, 1)]
    for rows in ([list(r) for r in wb[GROUPS].iter_rows(values_only=True)],
                 calamine_book.get_sheet_by_name(GROUPS).to_python()):
        head = find_row(rows, "基本方針")
        assert rows[head][:6] == ["基本方針", "名称", "施策数", "達成+", "達成", "未達成"]
        got = rows[head + 1: head + 1 + len(expected)]
        assert [r[0] for r in got] == [e[0] for e in expected]
        for row, exp in zip(got, expected, strict=True):
            values = [row[2], row[3], row[4], row[5]]
            assert all(is_number(v) for v in values), row
            assert tuple(values) == exp[1:], row
        assert [r[1] for r in got[:4]] == ["業務の改善・効率化", "マイナンバーカードの普及・活用",
                                           "オンライン化の促進", "データの利活用"]


# --------------------------------------------------------------------------- charts

def test_pie_chart(demo_book):
    pie = pie_of(demo_book)
    ser = pie.find(".//c:pieChart/c:ser", NS)
    assert unquote_ref(ser.find("c:val//c:f", NS).text) == f"{CHART_DATA}!$B$2:$B$4"
    cat = unquote_ref(ser.find("c:cat//c:f", NS).text)
    assert cat == f"{CHART_DATA}!$D$2:$D$4", cat
    show_cat = ser.find("c:dLbls/c:showCatName", NS)
    assert show_cat is not None and show_cat.get("val") == "1"  # labels show the category
    assert deleted_label_indexes(ser) == set()  # no zero share in the example
    cached = [v.text for v in ser.findall("c:cat//c:pt/c:v", NS)]
    assert cached == ["【達成+】, 5施策, 20%", "【達成】, 19施策, 76%", "【未達成】, 1施策, 4%"]


def test_stacked_bar_chart(demo_book):
    bars = [x for x in chart_xmls(demo_book).values() if "<c:barChart>" in x]
    assert len(bars) == 1
    xml = bars[0]
    assert '<c:grouping val="stacked"/>' in xml
    assert '<c:overlap val="100"/>' in xml
    bar = ET.fromstring(xml.encode()).find(".//c:barChart", NS)
    series = bar.findall("c:ser", NS)
    assert len(series) == 3
    assert [unquote_ref(s.find("c:val//c:f", NS).text) for s in series] == [
        f"{GROUPS}!$D$4:$D$7", f"{GROUPS}!$E$4:$E$7", f"{GROUPS}!$F$4:$F$7"]
    assert [s.find("c:tx//c:v", NS).text for s in series] == ["達成+", "達成", "未達成"]
    # zero segments get no label: 未達成 is 0 in Ⅰ, Ⅲ and Ⅳ
    assert deleted_label_indexes(series[2]) == {0, 2, 3}


# --------------------------------------------------------------------------- a small survey

SMALL_MASTER = [
    ["施策番号", "施策名", "基本方針", "所管課", "指標", "単位", "目標値"],
    [1, "施策一", "Ⅰ", "総務課", "実施件数", "件", 10],
    [2, "施策二", "Ⅱ", "総務課", "", "", ""],
    [3, "施策三", "Ⅲ", "情報課", "", "", ""],
]
SMALL_ANSWERS = {
    "1": {"評価": "達成", "実績値": "12", "取組実績": "研修を実施した", "課題・今後の取組": "対象を広げる"},
    "2": {"評価": "達成", "取組実績": "手順を見直した"},
    "3": {"評価": "達成", "取組実績": FORMULA_TEXT, "課題・今後の取組": "=1+1"},
}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """3 measures, 2 departments, all 達成; 情報課 types formulas as text; collected and summarised."""
    folder = tmp_path_factory.mktemp("small") / "survey"
    folder.mkdir()
    text = (ROOT / "templates" / "2025.toml").read_text(encoding="utf-8")
    (folder / S.DEFINITION_FILE).write_text(
        fill_placeholders(text.replace('master = "施策マスタ.xlsx"', 'master = "施策マスタ.csv"')), encoding="utf-8")
    with open(folder / "施策マスタ.csv", "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(SMALL_MASTER)
    loaded, problems = load(folder)
    assert loaded is not None and not [p for p in problems if p.is_error]
    forms = generate(loaded)
    assert len(forms) == 2
    for form in forms:
        fill_form(form, folder / S.RETURNS_DIR / form.name, SMALL_ANSWERS)
    collected = collect(loaded)
    assert collected.complete, [p.text() for p in collected.problems]
    result = summarize(loaded)
    assert not result.refused
    return folder, result.path


def test_small_pie_deletes_zero_labels(small):
    _folder, path = small
    ser = pie_of(path).find(".//c:pieChart/c:ser", NS)
    assert [v.text for v in ser.findall("c:val//c:pt/c:v", NS)] == ["0", "3", "0"]
    assert deleted_label_indexes(ser) == {0, 2}


def test_small_all_measures_lists_every_answered_field(small):
    _folder, path = small
    ws = openpyxl.load_workbook(path)[MEASURES]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = rows[0]
    for column in ("施策番号", "基本方針", "施策名", "所管課", "指標", "目標値",
                   "評価", "実績値", "取組実績", "課題・今後の取組"):
        assert column in header, column
    by_number = {str(r[header.index("施策番号")]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert sorted(by_number) == ["1", "2", "3"]
    for number, fields in SMALL_ANSWERS.items():
        row = by_number[number]
        for name, value in fields.items():
            expected = 12 if value == "12" else value  # typed into Excel, a number stays a number
            assert row[name] == expected, (number, name, row[name])
    assert by_number["1"]["目標値"] == 10 and by_number["1"]["指標"] == "実施件数（件）"
    assert by_number["1"]["所管課"] == "総務課" and by_number["3"]["所管課"] == "情報課"


def test_department_text_stays_text(small):
    """The only formulas are our own totals and shares; department text is never one."""
    _folder, path = small
    wb = openpyxl.load_workbook(path)
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert ws.title in (RATINGS, GROUPS, CHART_DATA), (ws.title, c.coordinate)
                    assert re.match(r"=(IF|SUM|'|\")", c.value), c.value
    ws = wb[MEASURES]
    cells = [c for row in ws.iter_rows() for c in row if c.value == FORMULA_TEXT]
    assert len(cells) == 1 and cells[0].data_type == "s"
    assert any(c.value == "=1+1" and c.data_type == "s" for row in ws.iter_rows() for c in row)


@pytest.fixture
def incomplete(small, tmp_path):
    """A copy of the small survey with 情報課's returned file removed and let go (collect
    --forget-missing: a file that only left 2_回収 would still count)."""
    source, _path = small
    folder = tmp_path / "incomplete"
    shutil.copytree(source, folder)
    removed = [p for p in (folder / S.RETURNS_DIR).iterdir() if "情報課" in p.name]
    assert len(removed) == 1
    removed[0].unlink()
    result = runner().invoke(cli, ["collect", str(folder), "--forget-missing"])
    assert result.exit_code == 1, result.output  # a department has not submitted
    return folder


def test_summarize_refuses_with_missing_measures(incomplete):
    result = runner().invoke(cli, ["summarize", str(incomplete)])
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert "施策番号 3 施策三（情報課）" in err
    assert "--allow-missing" in err
    assert "施策一" not in err and "施策二" not in err


def test_summarize_allow_missing(incomplete):
    result = runner().invoke(cli, ["summarize", str(incomplete), "--allow-missing", "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["ratings"] == [
        {"value": "達成+", "count": 0, "percent": 0},
        {"value": "達成", "count": 2, "percent": 67},
        {"value": "未達成", "count": 0, "percent": 0},
        {"value": "未回答", "count": 1, "percent": 33},
    ]
    assert d["missing"] == [{"measure": "3", "name": "施策三", "department": "情報課", "reason": "unanswered"}]
    assert [g["ratings"].get("未回答") for g in d["groups"]] == [0, 0, 1, 0]
    book = openpyxl.load_workbook(d["output"])
    cells = [r[0] for r in book[REPORT].iter_rows()]
    note = next(c for c in cells if c.value and "暫定" in str(c.value))
    # である調 like the report, and a placeholder (highlighted) for the clerk, not report text
    assert note.value == "（暫定の集計：回答のそろっていない1施策を「未回答」として含む。回収を終えて集計し直すこと）"
    assert note.fill.fgColor.rgb == "FFFFF2CC"
    assert "施策番号 3 施策三（情報課）" in note.comment.text
    rows = [list(r) for r in book[RATINGS].iter_rows(values_only=True)]
    head = find_row(rows, "施策の評価")
    assert [r[0] for r in rows[head + 1: head + 6]] == ["達成+", "達成", "未達成", "未回答", "計"]


# --------------------------------------------------------------------------- LibreOffice

try:
    from tests.support.lo import convert, libreoffice_or_skip
except ImportError:  # pragma: no cover - the helper module is part of the repository
    convert = None

    def libreoffice_or_skip() -> None:
        pytest.skip("tests/support/lo.py is not available")


@pytest.mark.libreoffice
def test_libreoffice_renders_the_summary_to_pdf(demo_book, tmp_path):
    libreoffice_or_skip()
    pdf = convert(demo_book, "pdf", tmp_path / "pdf")
    assert pdf.is_file()
    assert pdf.stat().st_size > 10 * 1024
