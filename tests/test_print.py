"""Documents on paper: forms, a correction copy, 回収状況 and 集計結果 printed through LibreOffice.

Everything is converted to PDF in one LibreOffice run and read back with pdftotext:
printed text is 8 pt or more (word boxes measured against a calibration page printed at
100 %), every answer is whole on paper (a 400-character answer with line breaks too), a
correction copy shows its reasons, every sheet is one page wide, and no chart is cut.
"""

from __future__ import annotations

import re

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import form_layout

from tests import reference2020 as R
from tests.support.lo import convert_many, libreoffice_or_skip, lo_edit
from tests.support.pdf import Page, columns_text, pages, pdftotext_available
from tests.survey_helpers import forms_of, make_survey
from xlsx_tool.cli import cli
from xlsx_tool.define.master import load
from xlsx_tool.demo import example_answers, fill_form
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.layout import file_names

pytestmark = pytest.mark.libreoffice
MIN_POINTS = 8.0
LONG = ("区民サービスの向上に向けて、窓口業務のオンライン化と庁内システムの連携を進めた。" * 10)[:400]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_text(ps: list[Page]) -> str:
    return "".join(squeeze(p.text) for p in ps)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    libreoffice_or_skip()
    if not pdftotext_available():
        pytest.skip("pdftotext (poppler-utils) is not installed")
    root = tmp_path_factory.mktemp("print")
    runner = CliRunner()
    demo = root / "demo"
    assert runner.invoke(cli, ["demo", str(demo)]).exit_code == 0
    loaded, _ = load(demo)
    answers = example_answers(demo)
    # the longest answers allowed (400 characters), typed in LibreOffice as a clerk types:
    # the application grows each row as Excel does (a row written by openpyxl would not)
    form = next(p for p in (demo / "1_配布").glob("*.xlsx") if "ICT推進課" in p.name)
    longest = root / "longest.xlsx"
    wb = openpyxl.load_workbook(form)
    columns, rows = form_layout(wb)
    lo_edit(form, longest, [{"op": "type", "sheet": "調査票", "cell": f"{columns[f]}{row}", "text": LONG}
                            for row in rows.values() for f in ("取組実績", "課題・今後の取組")])
    # a return with problems, for a correction copy
    bad = demo / "2_回収" / "戻り_総務課.xlsx"
    source = demo / "2_回収" / file_names(loaded.survey, loaded.master.departments)["総務課"]
    wb = openpyxl.load_workbook(source)
    ws = wb["調査票"]
    ws["E6"] = "良い"
    ws["F7"] = "約50"
    ws["G8"] = None
    wb.save(bad)
    source.unlink()
    assert runner.invoke(cli, ["run", str(demo), "--allow-missing", "--deadline", "令和4年5月20日（金）"]).exit_code == 1
    correction = next((demo / "3_集計" / "修正依頼").glob("*.xlsx"))
    # the 2020-style year of the reference report
    ref = root / "ref2020"
    answers2020 = R.build(ref)
    loaded2020, _ = load(ref)
    at = L.respondent_cells(L.columns(loaded2020))
    for f in forms_of(loaded2020):  # with 記入者 and 内線, as the form asks: a clean collect
        fill_form(f, ref / "2_回収" / f.name, answers2020,
                  {"記入者": (at["記入者"][1] + 1, "山田 太郎"), "内線": (at["内線"][1] + 1, "3001")})
    assert runner.invoke(cli, ["run", str(ref)]).exit_code == 0
    form2020 = next((ref / "1_配布").glob("*.xlsx"))
    # a department of 23 measures whose names take one, two and three lines: left to itself,
    # its last measure would print alone on the last page
    rows = [[i, "オンライン申請の拡大と窓口業務の効率化" * (1 + i % 3), "Ⅰ", "ICT推進課", "指標", "件", 10, "達成"]
            for i in range(1, 24)]
    many = make_survey(root / "many", rows=rows)
    (long_form,) = forms_of(load(many)[0])
    # a calibration page: 8 pt text printed at 100 %
    import xlsxwriter

    calibration = root / "calibration.xlsx"
    book = xlsxwriter.Workbook(str(calibration))
    sheet = book.add_worksheet()
    sheet.write_string(0, 0, "較正用の八ポイントの文字列です", book.add_format({"font_size": 8, "font_name": "游ゴシック"}))
    book.close()
    files = {"calibration": calibration, "longest": longest, "form2020": form2020, "correction": correction,
             "status": demo / "3_集計" / "回収状況.xlsx", "summary2025": demo / "3_集計" / "集計結果.xlsx",
             "summary2020": ref / "3_集計" / "集計結果.xlsx", "status2020": ref / "3_集計" / "回収状況.xlsx",
             "form2025": form, "many": long_form}
    named = []
    for name, path in files.items():  # both summaries are called 集計結果.xlsx
        named.append(root / "src" / f"{name}{path.suffix}")
        named[-1].parent.mkdir(exist_ok=True)
        named[-1].write_bytes(path.read_bytes())
    pdfs = convert_many(named, "pdf", root / "pdf")
    result = {name: pages(pdf) for name, pdf in zip(files, pdfs, strict=True)}
    result["_paths"] = files  # type: ignore[assignment]
    result["_answers"] = answers  # type: ignore[assignment]
    return result


@pytest.fixture(scope="module")
def factor(printed) -> float:
    """Word-box height per point of font size, as LibreOffice's fonts print here."""
    (page,) = printed["calibration"]
    return page.median_height() / 8.0


def smallest(ps: list[Page], factor: float) -> float:
    return min(min(w.height for w in p.words) for p in ps if p.words) / factor


def input_pages(ps: list[Page]) -> list[Page]:
    return [p for p in ps if p.width > p.height]  # the input sheet prints landscape


@pytest.mark.parametrize("name", ["longest", "form2020", "correction"])
def test_forms_print_at_8_points_or_more(printed, factor, name):
    assert smallest(input_pages(printed[name]), factor) >= MIN_POINTS - 0.05
    assert smallest(printed[name], factor) >= MIN_POINTS - 0.05  # the instructions too


def test_the_longest_answers_are_whole_on_paper(printed):
    """Each of ICT推進課's 7 measures has a 400-character answer in both text columns."""
    whole = squeeze(LONG)
    found = {"取組実績": 0, "課題・今後の取組": 0}
    for page in input_pages(printed["longest"]):
        # both columns start with the same answer; the 2nd match is the right-hand column
        starts = [w.x0 for w in page.words if w.text.startswith(whole[:6])]
        left, right = min(starts), max(starts)
        texts = columns_text(page, {"取組実績": whole, "課題・今後の取組": whole})
        if left != right:
            cut = [w for w in page.words if left - 2 <= w.x0 < right - 2]
            texts = {"取組実績": "".join(w.text for w in sorted(cut, key=lambda w: (w.y0, w.x0))),
                     "課題・今後の取組": "".join(w.text for w in sorted((w for w in page.words if w.x0 >= right - 2),
                                                                      key=lambda w: (w.y0, w.x0)))}
        for header, text in texts.items():
            found[header] += text.count(whole)
    assert found == {"取組実績": 7, "課題・今後の取組": 7}


def test_example_answers_are_whole_on_paper(printed):
    answers = printed["_answers"]
    page = input_pages(printed["correction"])[0]
    done = {n: squeeze(answers[n]["取組実績"]) for n in ("3", "6")}  # not broken (its measures: 3, 6, 7)
    issues = squeeze(answers["7"]["課題・今後の取組"])  # the column to the right starts here
    column = columns_text(page, {"取組実績": done["3"], "課題": issues})["取組実績"]
    for number, text in done.items():
        assert text in column, number


def test_correction_copy_says_on_paper_what_to_fix(printed):
    text = page_text(printed["correction"])
    assert squeeze("修正のお願い") in text and "令和4年5月20日（金）までに" in text
    reasons = "".join(columns_text(p, {"修正内容": "「評価」の"})["修正内容"] for p in input_pages(printed["correction"]))
    assert "「評価」の「良い」は選択肢にありません" in reasons
    assert "「実績値」の「約50」は数値ではありません" in reasons
    assert "「取組実績」が未入力です" in reasons


def test_status_workbook_one_page_wide_in_japanese(printed, factor):
    ps = printed["status"]
    assert smallest(ps, factor) >= MIN_POINTS - 0.05
    first = squeeze(ps[0].text)
    for header in ("状況", "所管課", "担当者・メール", "受付日時", "修正が必要な点・連絡事項", "提出ファイル（2_回収）"):
        assert header in first, header  # the rightmost column is on the first page: one page wide
    assert not re.search(r"\b(needs_fix|missing|submitted|identified|required)\b", page_text(ps))
    assert re.search(r"令和\d+年\d{1,2}月\d{1,2}日\d{1,2}:\d\d", first)  # local time, as a 和暦 date


@pytest.mark.parametrize("name", ["summary2025", "summary2020"])
def test_summary_pages(printed, factor, name):
    ps = printed[name]
    assert smallest(ps, factor) >= MIN_POINTS - 0.05
    # no chart cut across pages: each chart's title and its labels share one page
    for p in ps:
        text = squeeze(p.text)
        if "評価の内訳" in text and "別評価の内訳" in text:
            assert any(v in text.split("別評価の内訳", 1)[1] for v in ("未達成", "終了")), text[-200:]


def test_summary_2020_prints_the_breakdown_beside_the_count(printed):
    # 該当施策 a number in the report's digit width (「４施策」), its 内訳 text in the next cell
    text = page_text(printed["summary2020"])
    assert "36施策A:23B:13" in text
    assert "４施策A:１終了:３" in text
    assert "【A】,24施策,59%" in text



# --- issue 24: pages as an office prints them --------------------------------------------------

def band(page: Page, top: float, bottom: float) -> str:
    return "".join(w.text for w in page.words if top <= w.y0 < bottom)


def footer(page: Page) -> str:
    return band(page, page.height - 50, page.height)


def pages_of(ps: list[Page], sheet: str) -> list[Page]:
    """The pages of one sheet, by the name its footer prints."""
    return [p for p in ps if sheet in footer(p)]


@pytest.mark.parametrize("name", ["form2020", "form2025"])
def test_the_instructions_print_on_one_page(printed, name):
    """The 2020 instructions spilled five lines onto an otherwise empty second page."""
    portrait = [p for p in printed[name] if p.width < p.height]
    assert len(portrait) == 1
    assert squeeze("入力項目") in squeeze(portrait[0].text)
    if name == "form2020":  # a scale without definitions: its choices on one line, no empty 内容 column
        assert "方向性計画どおり推進／事業拡大／事業縮小／計画修正／中止（休止）／完了" in squeeze(portrait[0].text)


def test_no_measure_alone_on_a_forms_last_page(printed):
    numbers = [[w.text for w in p.words if w.text.isdigit() and w.x0 < 45] for p in input_pages(printed["many"])]
    assert sum(len(n) for n in numbers) == 23 and len(numbers) > 1
    assert len(numbers[-1]) >= 2, [len(n) for n in numbers]


def test_status_rows_are_sized_to_their_text(printed):
    """Each department on a row its text fills: the nine departments of the example print on
    one page (7 to 9 a page before), every address whole on one line."""
    first = printed["status"][0]
    listed = squeeze(first.text)
    for department in ("総務課", "税務課", "ICT推進課", "人事課", "経営改革推進課", "戸籍住民課", "教育総務課",
                       "政策企画課", "広聴広報課"):
        assert department in listed, department
    words = [w.text for w in first.words]
    for address in ("somu@example.lg.jp", "ict-suishin@example.lg.jp", "keiei-kaikaku@example.lg.jp",
                    "kyoiku-somu@example.lg.jp", "seisaku-kikaku@example.lg.jp"):
        assert address in words, address  # one word: never broken mid-address


def test_status_prints_no_empty_sheet(printed):
    """A sheet with nothing on it does not print; 問題一覧 says when there is no problem."""
    for ps in (printed["status"], printed["status2020"]):
        assert not pages_of(ps, "読み飛ばし")
        assert all(re.search(r"\d+/\d+ページ$", footer(p)) for p in ps)
    assert not pages_of(printed["status2020"], "差し替え")
    problems = pages_of(printed["status2020"], "問題一覧")
    assert len(problems) == 1 and "問題はありません。" in squeeze(problems[0].text)
    for page in printed["status2020"]:  # the survey on every page
        assert footer(page).startswith("令和元年度ICT推進計画2020進捗状況調査"), footer(page)


def test_charts_print_on_the_page_of_their_table(printed):
    """The 2020 基本目標別 stacked bar printed alone on the page after its table."""
    for name, title, chart in (("summary2020", "基本目標別評価別件数", "基本目標別評価の内訳"),
                               ("summary2025", "基本方針別評価別件数", "基本方針別評価の内訳"),
                               ("summary2020", "における評価別集計表", "事業数"),
                               ("summary2025", "実績集計表", "評価別の施策数")):
        (page,) = [p for p in printed[name] if title in band(p, 0, 90)]  # the table's title, at its top
        assert chart in squeeze(page.text), (name, title)


def test_all_measures_take_four_pages_or_fewer(printed):
    """25 measures took 5 pages: rows sized to their text, and no column nobody filled."""
    pages = pages_of(printed["summary2025"], "全施策一覧")
    assert 1 <= len(pages) <= 4, len(pages)
