"""What people read and act on, as an office writes it (issue 24): forms, correction copies,
回収状況, 集計結果 and the console, made through the CLI and read back with openpyxl,
python-calamine and the workbooks' own XML. The printed pages are in test_print.py, the mails in
test_mail.py.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests import reference2020 as R
from tests.survey_helpers import copy_example, forms_of, make_survey
from xlsx_tool.cli import cli
from xlsx_tool.define.master import load
from xlsx_tool.demo import example_answers, fill_form
from xlsx_tool.forms import writer as W
from xlsx_tool.forms.layout import RESPONDENT_ROW, columns, file_names, respondent_cells

pytestmark = pytest.mark.cycle
runner = CliRunner()


def run(*args: object) -> tuple[int, str]:
    res = runner.invoke(cli, [str(a) for a in args])
    return res.exit_code, res.output


def sheet_xml(path: Path, name: str) -> str:
    """A sheet's XML found by its name through the workbook's relationships."""
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet name="{re.escape(name)}" sheetId="\d+" (?:state="\w+" )?r:id="(rId\d+)"', book).group(1)
        target = re.search(rf'Id="{rid}" Type="[^"]+" Target="([^"]+)"', rels).group(1)
        return z.read("xl/" + target.lstrip("/").removeprefix("xl/")).decode()


def ignored_as_text(xml: str) -> list[str]:
    return re.findall(r'<ignoredError sqref="([^"]+)" numberStoredAsText="1"/>', xml)


def respondent(loaded, department: str) -> dict[str, tuple[int, str]]:
    """記入者 and 内線 as the department's contact person types them."""
    at = respondent_cells(columns(loaded))
    contact = loaded.departments_list.get(department)
    return {"記入者": (at["記入者"][1] + 1, contact.person), "内線": (at["内線"][1] + 1, contact.extension)}


@pytest.fixture(scope="module")
def year2025(tmp_path_factory) -> Path:
    """The bundled example: 総務課 returns a form with three mistakes and no 記入者/内線,
    税務課 sends nothing, the others a valid form."""
    folder = copy_example(tmp_path_factory.mktemp("y2025") / "survey")
    loaded, _ = load(folder)
    answers = example_answers(folder)
    names = {v: k for k, v in file_names(loaded.survey, loaded.master.departments).items()}
    for form in forms_of(loaded):
        department = names[form.name]
        if department != "税務課":
            fill_form(form, folder / "2_回収" / form.name, answers,
                      {} if department == "総務課" else respondent(loaded, department))
    returned = next((folder / "2_回収").glob("*_総務課.xlsx"))  # not 教育総務課
    wb = openpyxl.load_workbook(returned)
    ws = wb["調査票"]
    ws["E6"], ws["F7"], ws["G8"] = "良い", "約50", None
    wb.save(returned)
    return folder


@pytest.fixture(scope="module")
def collected2025(year2025) -> tuple[Path, str]:
    code, out = run("collect", year2025, "--deadline", "令和4年5月20日（金）")
    assert code == 1, out
    return year2025, out


@pytest.fixture(scope="module")
def year2020(tmp_path_factory) -> Path:
    """The 2020 reference year with a department list, every form returned valid."""
    folder = tmp_path_factory.mktemp("y2020") / "survey"
    answers = R.build(folder)
    (folder / "所管課一覧.csv").write_text(
        "所管課,担当者,内線,メール\n" + "".join(f"{d},担当{i},30{i}0,d{i}@example.lg.jp\n"
                                                 for i, d in enumerate(R.DEPARTMENTS)), encoding="utf-8-sig")
    toml = folder / "survey.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "rating_field", 'departments = "所管課一覧.csv"\nrating_field', 1), encoding="utf-8")
    loaded, problems = load(folder)
    assert not [p for p in problems if p.is_error], problems
    names = {v: k for k, v in file_names(loaded.survey, loaded.master.departments).items()}
    for form in forms_of(loaded):
        fill_form(form, folder / "2_回収" / form.name, answers, respondent(loaded, names[form.name]))
    code, out = run("run", folder)
    assert code == 0, out
    return folder


# --- forms ----------------------------------------------------------------------------------

def instructions(path: Path) -> list[str]:
    ws = openpyxl.load_workbook(path)["記入要領"]
    return [" ".join(str(v) for v in row if v is not None) for row in ws.iter_rows(values_only=True)]


def test_instructions_speak_as_an_office_writes(year2025, year2020):
    form25 = next((year2025 / "1_配布").glob("*ICT推進課.xlsx"))
    lines = instructions(form25)
    text = "\n".join(lines)
    assert "ご担当 佐藤 一郎（内線 2021）" in lines  # not 「担当 佐藤 一郎」 under 「ご担当」
    assert "値のみ貼り付け" not in text and "「形式を選択して貼り付け」で「値」" in text  # Excel's own words
    assert "終了" not in text  # the 2025 scale has no 終了
    sent = next(line for line in lines if "返送先へお送りください" in line)
    assert re.search(r"（[^）]*（", sent) is None  # no parentheses inside parentheses
    fields = next(line for line in lines if line.startswith("取組実績"))
    assert fields == "取組実績（必須）：文章、400文字以内。年度中に実施した取組と成果"  # the limit said once
    # the 2020 scale of directions has no definitions: one line of its choices, no empty 内容 column
    form20 = next((year2020 / "1_配布").glob("*_総務課.xlsx"))  # not 教育総務課
    lines20 = instructions(form20)
    assert "方向性 計画どおり推進　／　事業拡大　／　事業縮小　／　計画修正　／　中止（休止）　／　完了" in lines20
    assert "評価 内容" in lines20 and "方向性 内容" not in lines20
    # 総務課 has an ended measure (No.14): its form says what 終了 means for it
    assert any("「終了」の施策は入力不要です" in line for line in lines20)


def test_the_legend_names_the_colours_it_shows(year2025, collected2025):
    form = next((year2025 / "1_配布").glob("*ICT推進課.xlsx"))
    ws = openpyxl.load_workbook(form)["調査票"]
    legend = ws["A4"].value
    assert legend.startswith("黄色のセルに入力してください（オレンジ色は未入力の必須項目）")
    fills = {rule.dxf.fill.bgColor.rgb[-6:] for rng in ws.conditional_formatting for rule in rng.rules}
    assert fills == {W.REQUIRED_FILL[1:]} and W.REQUIRED_FILL == "#F4B183"  # an orange, as the words say
    assert ws["E6"].fill.fgColor.rgb[-6:] == W.INPUT_FILL[1:]  # the input cells: yellow
    folder, _ = collected2025
    copy = next((folder / "3_集計" / "修正依頼").glob("*.xlsx"))
    wb = openpyxl.load_workbook(copy)
    request = wb["調査票"]["A4"].value
    assert "赤色のセル" in request and "ご提出いただいた" in request
    # one deadline on the page: the one the request asks for, not the first one beside it
    assert "令和4年5月20日（金）までに" in request
    assert "再提出期限：令和4年5月20日（金）" in wb["調査票"]["A2"].value and "5月13日" not in wb["調査票"]["A2"].value
    marks = {rule.dxf.fill.bgColor.rgb[-6:] for rng in wb["調査票"].conditional_formatting for rule in rng.rules
             if rule.type == "expression"}
    assert marks == {W.PROBLEM_FILL[1:]}


def test_a_correction_copy_keeps_who_filled_the_form_and_names_each_field_once(collected2025, tmp_path):
    folder, _ = collected2025
    copy = next((folder / "3_集計" / "修正依頼").glob("*.xlsx"))
    ws = openpyxl.load_workbook(copy)["調査票"]
    reasons = [c.value for c in ws[next(c.column_letter for c in ws[5] if c.value == "修正内容")] if c.value]
    assert "「評価」の「良い」は選択肢にありません。一覧（達成+、達成、未達成）から選んでください。" in reasons
    assert not any(r.startswith("評価：「評価」") for r in reasons)
    # 人事課 filled in 記入者 and 内線: a copy of its return keeps them
    loaded, _ = load(folder)
    at = respondent_cells(columns(loaded))
    survey = tmp_path / "s"
    shutil.copytree(folder, survey)
    name = file_names(loaded.survey, loaded.master.departments)["人事課"]
    wb = openpyxl.load_workbook(survey / "2_回収" / name)
    wb["調査票"]["E6"] = "良い"
    wb.save(survey / "2_回収" / "人事課_再提出.xlsx")
    (survey / "2_回収" / name).unlink()
    run("collect", survey, "--forget-missing")
    copy = next(p for p in (survey / "3_集計" / "修正依頼").glob("*.xlsx") if "人事課" in p.name)
    ws = openpyxl.load_workbook(copy)["調査票"]
    assert ws.cell(RESPONDENT_ROW + 1, at["記入者"][1] + 1).value == "鈴木 花子"
    assert ws.cell(RESPONDENT_ROW + 1, at["内線"][1] + 1).value == "2105"


def test_a_form_back_without_its_respondent_is_a_warning(collected2025):
    folder, out = collected2025
    line = next(x for x in out.splitlines() if "記入者" in x and x.startswith("[警告]"))
    assert "総務課" in line and "セル C3" in line and "「記入者」「内線」が空欄" in line
    data = json.loads(runner.invoke(cli, ["collect", str(folder), "--json"]).stdout)
    found = [p for p in data["problems"] if p["code"] == "respondent-missing"]
    assert [(p["department"], p["severity"]) for p in found] == [("総務課", "warning")]


def test_no_number_stored_as_text_marks_where_numbers_are_text(collected2025, year2020):
    folder, _ = collected2025
    form = next((folder / "1_配布").glob("*ICT推進課.xlsx"))
    assert ignored_as_text(sheet_xml(form, "調査票")) == ["A6:H12"]  # the table: 施策番号 and the answers
    copy = next((folder / "3_集計" / "修正依頼").glob("*.xlsx"))
    assert ignored_as_text(sheet_xml(copy, "調査票"))
    run("summarize", folder, "--allow-missing")
    for book, sheets in ((folder / "3_集計" / "回収状況.xlsx", ("回収状況", "問題一覧")),
                         (folder / "3_集計" / "集計結果.xlsx", ("全施策一覧", "評価別集計表")),
                         (year2020 / "3_集計" / "集計結果.xlsx", ("前年度比較", "全施策一覧"))):
        for name in sheets:
            assert ignored_as_text(sheet_xml(book, name)) == ["A1:XFD1048576"], (book.name, name)
    measures = openpyxl.load_workbook(folder / "3_集計" / "集計結果.xlsx")["全施策一覧"]
    assert measures["A2"].data_type == "s" and measures["A2"].value == "1"  # still text: 「No.4」 must stay so


# --- 回収状況 ---------------------------------------------------------------------------------

@pytest.mark.calamine
def test_status_workbook_in_the_sections_order_and_in_wareki(collected2025):
    from python_calamine import CalamineWorkbook

    folder, _ = collected2025
    path = folder / "3_集計" / "回収状況.xlsx"
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("回収状況").to_python()
    assert re.fullmatch(r"作成日時：令和\d+年[1-9]\d?月[1-9]\d?日 \d{1,2}:\d\d", rows[1][0])  # 和暦, no zero padding
    listed = [r[1] for r in rows[4:] if r and r[1]]
    # by what needs action, then as the 所管課一覧 lists them (not 人事課 before ICT推進課 by code)
    assert listed == ["総務課", "税務課", "ICT推進課", "人事課", "経営改革推進課", "戸籍住民課", "教育総務課",
                      "政策企画課", "広聴広報課"]
    ws = openpyxl.load_workbook(path)["回収状況"]
    head = [c.value for c in ws[4]]
    received = ws.cell(5, head.index("受付日時") + 1)
    assert received.is_date and received.number_format.startswith('[$-411]ggge"年"m"月"d"日"')
    for name in openpyxl.load_workbook(path).sheetnames:
        footer = openpyxl.load_workbook(path)[name].oddFooter.left.text
        assert footer == f"令和3年度 ICT推進・活用計画2025 実績調査　{name}"  # a page off the printer says whose


def test_empty_sheets_are_left_out_and_the_first_says_so(year2020):
    book = openpyxl.load_workbook(year2020 / "3_集計" / "回収状況.xlsx")
    assert book.sheetnames == ["回収状況", "問題一覧", "受付履歴"]  # no 差し替え, nothing passed over
    assert book["回収状況"]["A3"].value.endswith("差し替えはありません。読み飛ばしたファイルはありません。")
    assert book["問題一覧"]["A5"].value == "問題はありません。"


def test_a_department_with_every_measure_ended_is_not_asked_and_says_so(tmp_path):
    rows = [[1, "電子申請の拡大", "① 行政運営の効率化", "情報政策課", "", "", "", "A", "計画どおり推進"],
            [2, "旧システムの廃止", "① 行政運営の効率化", "区民課", "", "", "", "A", "完了"]]
    folder = make_survey(tmp_path / "s", "2020", rows=rows)
    assert run("generate", folder)[0] == 0
    code, out = run("collect", folder)
    line = next(x for x in out.splitlines() if x.startswith("区民課"))
    assert line.split()[1] == "提出不要" and "施策がすべて終了" in line
    ws = openpyxl.load_workbook(folder / "3_集計" / "回収状況.xlsx")["回収状況"]
    row = next(r for r in ws.iter_rows(min_row=5, values_only=True) if r[1] == "区民課")
    assert row[0] == "提出不要" and row[5].startswith("施策がすべて終了のため、調査票を送っていません")
    assert "提出不要 1 課" in ws["A3"].value


# --- 集計結果 ---------------------------------------------------------------------------------

def test_charts_are_japanese_in_the_tables_font(year2020):
    with zipfile.ZipFile(year2020 / "3_集計" / "集計結果.xlsx") as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert charts
    for xml in charts:
        assert "en-US" not in xml and '<c:lang val="ja-JP"/>' in xml
        latin = re.findall(r'<a:latin typeface="([^"]+)"/><a:ea typeface="([^"]+)"/>', xml)
        assert latin and all(pair == ("游ゴシック", "游ゴシック") for pair in latin)
        assert xml.count("<a:latin ") == len(latin)  # every run of text names its East Asian font


def test_the_2020_group_table_shares_its_page_with_its_chart(year2020):
    ws = openpyxl.load_workbook(year2020 / "3_集計" / "集計結果.xlsx")["基本目標別集計表"]
    assert ws.page_setup.orientation == "portrait"  # its columns fit portrait at 8.2 pt or more
    assert not ws.row_breaks.brk  # no break before the chart (the printed page: test_print.py)


def test_a_column_no_measure_fills_is_left_out_of_all_measures(collected2025):
    folder, _ = collected2025
    run("summarize", folder, "--allow-missing")
    head = [c.value for c in openpyxl.load_workbook(folder / "3_集計" / "集計結果.xlsx")["全施策一覧"][1]]
    assert "前年度評価" not in head and "変化" not in head  # the example has no previous year
    assert head[:6] == ["施策番号", "基本方針", "施策名", "所管課", "指標", "目標値"]


# --- the console ------------------------------------------------------------------------------

def test_collect_says_each_line_it_counts_in_the_sections_order(collected2025):
    _folder, out = collected2025
    table = [line.split()[0] for line in out.splitlines()[1:10]]
    assert table == ["ICT推進課", "人事課", "総務課", "経営改革推進課", "戸籍住民課", "税務課", "教育総務課",
                     "政策企画課", "広聴広報課"]
    error = next(x for x in out.splitlines() if x.startswith("[エラー]") and "E6" in x)
    assert "セル E6 施策番号 3:" in error  # the department finds its row by the number
    summary = next(x for x in out.splitlines() if x.startswith("提出済"))
    counted = dict(re.findall(r"(警告|お知らせ) (\d+) 件", summary))
    for label, n in counted.items():
        assert sum(x.startswith(f"[{label}]") for x in out.splitlines()) == int(n), (label, out)


def test_check_counts_name_the_labels_of_their_lines(tmp_path):
    folder = make_survey(tmp_path / "s", "2025")
    master = folder / "施策マスタ.csv"
    master.write_text(master.read_text(encoding="utf-8-sig") + "5,新施策,Ⅴ,ICT推進課,,,,\n", encoding="utf-8-sig")
    code, out = run("check", folder)
    labels = [m.group(1) for m in re.finditer(r"^\[(\w+)\]", out, re.M)]
    last = out.strip().splitlines()[-1]
    for label in set(labels):
        assert f"{label} {labels.count(label)} 件" in last, out
    assert "その他" not in last
