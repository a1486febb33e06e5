"""Formats tell what was typed: a number Excel keeps with a format is read as the text it shows.

Excel stores 「60%」 as 0.6 with the format 0%, 「2025/3/31」 as 45747 with yyyy/m/d and 「0012」
as 12 with 0000. The section's master, its department list and the text fields of a returned
form are read as they show; number fields keep refusing dates and percentages (test_intake).
The renderer (intake/numfmt.py) is held against LibreOffice, which shows number formats as
Excel does except where listed (EXCEL_ONLY, with the reason).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import TARGET, Env, form_layout

from tests.support.lo import convert, libreoffice_or_skip, lo_edit
from tests.survey_helpers import make_survey
from xlsx_tool import demo
from xlsx_tool.cli import cli
from xlsx_tool.intake.numfmt import shown

# --- the renderer ---------------------------------------------------------------------------------

SHOWN = [  # (number, format code, what Excel shows)
    (0.6, "0%", "60%"), (0.125, "0.0%", "12.5%"), (0.125, "0.00%", "12.50%"), (-0.5, "0%", "-50%"),
    (0.123456, "0.000%", "12.346%"), (0.8, '0%"以上"', "80%以上"),
    (45747, "yyyy/m/d", "2025/3/31"), (45747, "yyyy-mm-dd", "2025-03-31"), (45747, "mmm d, yyyy", "Mar 31, 2025"),
    (45747, '[$-411]ggge"年"m"月"d"日"', "令和7年3月31日"), (45747, "[$-411]ge.m.d", "R7.3.31"),
    (40000, "[$-411]ge.m.d", "H21.7.6"), (43586, '[$-411]ggge"年"m"月"d"日"', "令和1年5月1日"),
    (43586, '[$-ja-JP-x-gannen]ggge"年"m"月"d"日"', "令和元年5月1日"),
    (45747.5, "yyyy/m/d h:mm", "2025/3/31 12:00"), (45747.999999, "yyyy/m/d h:mm:ss", "2025/4/1 0:00:00"),
    (61, "yyyy/m/d", "1900/3/1"),
    (0.5, "h:mm", "12:00"), (0.4375, "h:mm AM/PM", "10:30 AM"), (45747.5, "h:mm:ss AM/PM", "12:00:00 PM"),
    (1.5, "[h]:mm", "36:00"),
    (1234, "#,##0", "1,234"), (123456789, "#,##0", "123,456,789"), (1234.5, "#,##0.00", "1,234.50"),
    (12345.678, "#,##0.0", "12,345.7"), (1234567, "#,##0,", "1,235"), (1234, '#,##0.0,"千"', "1.2千"),
    (12, "0000", "0012"), (7, "00", "07"), (1234567, "000-0000", "123-4567"), (1234, "0000-00", "0012-34"),
    (-1234, "#,##0;[Red]\\-#,##0", "-1,234"), (-1234, '#,##0;"▲"#,##0', "▲1,234"),
    (0, '#,##0;-#,##0;"-"', "-"), (1234, "#,##0_);(#,##0)", "1,234 "), (-1234, "#,##0_);(#,##0)", "(1,234)"),
    (1, '"はい";"いいえ";"ゼロ"', "はい"), (-1, '"はい";"いいえ";"ゼロ"', "いいえ"), (0, '"はい";"いいえ";"ゼロ"', "ゼロ"),
    (1234.5, '"¥"#,##0', "¥1,235"), (1234, "[$¥-411]#,##0", "¥1,234"), (12, '0"件"', "12件"),
    (0.5, "0.0#", "0.5"), (0.55, "0.0#", "0.55"), (3.14159, "0.##", "3.14"), (0.5, "0.0%;[Red]-0.0%", "50.0%"),
    (5, "#", "5"), (0, "#", ""), (0, "0.00", "0.00"), (0.0001, "0.00", "0.00"), (1.005, "0.00", "1.01"),
    (2.5, "0", "3"), (-2.5, "0", "-3"), (12.5, "@", "12.5"), (20, "General", "20"), (0.1, "General", "0.1"),
    (0.1 + 0.2, "General", "0.3"),
    # Excel's own, not LibreOffice's (EXCEL_ONLY)
    (59, "yyyy/m/d", "1900/2/28"), (45747, "ggge\"年\"", "令和7年"), (45747, "aaaa", "月曜日"),
    (3, "0.##", "3."),
]
EXCEL_ONLY = {
    # Excel counts a 29 February 1900 (Microsoft: "Excel incorrectly assumes that the year 1900 is a
    # leap year"), LibreOffice does not: serials before 61 are one day apart
    (59, "yyyy/m/d"),
    # a Japanese Excel shows g/e as the era and aaaa as the weekday without [$-411]; LibreOffice
    # needs the language
    (45747, "ggge\"年\""), (45747, "aaaa"),
    (3, "0.##"),  # Excel keeps the decimal point with no decimals to show; LibreOffice drops it
    # the language tag of Excel's 元年 display (added with Reiwa, 2019); LibreOffice does not know it
    (43586, '[$-ja-JP-x-gannen]ggge"年"m"月"d"日"'),
}
UNSHOWN = [  # formats shown otherwise than we can: the caller says so
    (0.25, "# ?/?"), (5, "0.0E+00"), (100, "[>=100]0;0"), (5, "[DBNum1]0"), (-5, "yyyy/m/d"),
    (60, "yyyy/m/d"), (45747, "B1yyyy"),
]


@pytest.mark.parametrize(("number", "code", "text"), SHOWN)
def test_a_number_is_shown_as_its_format_shows_it(number, code, text):
    assert shown(number, code) == text


@pytest.mark.parametrize(("number", "code"), UNSHOWN)
def test_what_cannot_be_shown_faithfully_says_so(number, code):
    assert shown(number, code) is None


@pytest.mark.libreoffice
def test_libreoffice_shows_the_same(tmp_path):
    """The table above is what LibreOffice (Japanese) shows too, but for EXCEL_ONLY."""
    libreoffice_or_skip()
    cases = [(n, c, t) for n, c, t in SHOWN if (n, c) not in EXCEL_ONLY]
    wb = openpyxl.Workbook()
    for i, (number, code, _text) in enumerate(cases, 1):
        wb.active.cell(i, 1, number).number_format = code
    wb.save(tmp_path / "formats.xlsx")
    # CSV "as shown" (token 9), Japanese (1041), UTF-8 (76)
    out = convert(tmp_path / "formats.xlsx", "csv:Text - txt - csv (StarCalc):44,34,76,1,,1041,false,true,true",
                  tmp_path / "out")
    lines = out.read_text(encoding="utf-8").split("\n")
    got = [(next(csv.reader([line]), [""]) or [""])[0] for line in lines[:len(cases)]]
    assert got == [text for _n, _c, text in cases]


# --- the master and the department list, through check and generate -------------------------------

def xlsx_master_survey(folder: Path) -> Path:
    """A survey whose master and department list the section typed in Excel."""
    make_survey(folder, toml_edit=lambda t: t.replace(
        'master = "施策マスタ.csv"', 'master = "施策マスタ.xlsx"\ndepartments = "所管課一覧.xlsx"'))
    (folder / "施策マスタ.csv").unlink()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["施策番号", "施策名", "基本方針", "所管課", "指標", "単位", "目標値", "期限", "事業コード", "比率"])
    ws.append([1, "Web会議の推進", "Ⅰ", "ICT推進課", "Web会議実施率", "", 0.6, dt.datetime(2025, 3, 31), 12, 0.25])
    ws.append([2, "RPAの拡大", "Ⅰ", "経営改革推進課", "RPA適用率", "%", 0.125, dt.datetime(2026, 3, 31), 345, None])
    ws.append([3, "オンライン申請の拡大", "Ⅲ", "ICT推進課", "申請件数", "件", 1234, None, 7, "=1/0"])
    for r in (2, 3, 4):
        ws.cell(r, 9).number_format = "0000"
    ws["A2"].number_format = "000"  # shows 001: the measure number stays 1, check says so
    ws["G2"].number_format, ws["G3"].number_format, ws["G4"].number_format = "0%", "0.0%", "#,##0"
    ws["H2"].number_format = ws["H3"].number_format = "yyyy/m/d"
    ws["J2"].number_format = "# ?/?"  # a fraction: shown as 0.25 on the forms, and check says so
    wb.save(folder / "施策マスタ.xlsx")
    _with_error_value(folder / "施策マスタ.xlsx", "J4")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["所管課", "担当者", "内線", "メール"])
    ws.append(["ICT推進課", "山田", 21, "ict@example.lg.jp"])
    ws.append(["経営改革推進課", "佐藤", 2345, "keiei@example.lg.jp"])
    ws["C2"].number_format = "0000"
    wb.save(folder / "所管課一覧.xlsx")
    return folder


def _with_error_value(path: Path, ref: str) -> None:
    """The cell's formula with the cached error Excel would have saved (openpyxl saves none)."""
    from conftest import rewrite_zip

    def patch(xml: bytes) -> bytes:
        new, n = re.subn(rb'<c r="' + ref.encode() + rb'"[^>]*>.*?</c>',
                         b'<c r="' + ref.encode() + b'" t="e"><f>1/0</f><v>#DIV/0!</v></c>', xml, count=1)
        assert n == 1
        return new
    rewrite_zip(path, path, {"xl/worksheets/sheet1.xml": patch})


def test_check_names_the_cells_whose_display_the_forms_cannot_reproduce(tmp_path):
    folder = xlsx_master_survey(tmp_path / "survey")
    res = CliRunner().invoke(cli, ["check", str(folder)])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.output.splitlines() if line.startswith("[警告]")]
    assert lines == [
        "[警告] 施策マスタ.xlsx 2行目 列「施策番号」: Excel では「001」と表示されていますが、番号は入力されている数値「1」"
        "として扱います（調査票・集計結果にも「1」と表示されます）。「001」のとおりにする場合は、セルの表示形式を「文字列」にして"
        "入力し直してください。",
        "[警告] 施策マスタ.xlsx 2行目 列「比率」: Excel の表示形式「# ?/?」のとおりには表示できないため、「0.25」として扱います"
        "（調査票・集計結果にもこう表示されます）。表示どおりにする場合は、セルの表示形式を「文字列」にして入力し直してください。",
        "[警告] 施策マスタ.xlsx 4行目 列「比率」: エラー値「#DIV/0!」が入っているため、空欄として扱います。数式や参照先を"
        "確認してください。",
    ]


@pytest.mark.calamine
def test_generated_forms_show_the_master_as_the_section_sees_it(tmp_path):
    from python_calamine import CalamineWorkbook

    folder = xlsx_master_survey(tmp_path / "survey")
    res = CliRunner().invoke(cli, ["generate", str(folder)])
    assert res.exit_code == 0, res.output
    forms = {p.name.rsplit("_", 1)[1][:-5]: p for p in (folder / "1_配布").glob("*.xlsx")}
    expected = {  # department -> measure -> (指標・目標値, 期限, 事業コード, 比率)
        "ICT推進課": {"1": ("Web会議実施率\n目標値：60%", "2025/3/31", "0012", "0.25"),
                    "3": ("申請件数\n目標値：1,234件", "", "0007", "")},
        "経営改革推進課": {"2": ("RPA適用率\n目標値：12.5%", "2026/3/31", "0345", "")},  # not 12.5%%
    }
    for department, measures in expected.items():
        wb = openpyxl.load_workbook(forms[department])
        columns, rows = form_layout(wb)
        ws = wb["調査票"]
        theirs = CalamineWorkbook.from_path(str(forms[department])).get_sheet_by_name("調査票").to_python(
            skip_empty_area=False)
        for number, values in measures.items():
            cells = [f"{columns[key]}{rows[number]}" for key in ("indicator", "期限", "事業コード", "比率")]
            assert tuple(ws[c].value or "" for c in cells) == values
            assert tuple(theirs[ws[c].row - 1][ws[c].column - 1] for c in cells) == values
    # the contact line of the department list: 内線 0021 as the list shows it
    texts = [c.value for ws in openpyxl.load_workbook(forms["ICT推進課"]).worksheets
             for r in ws.iter_rows() for c in r if isinstance(c.value, str)]
    assert any("内線 0021" in t for t in texts), texts


def test_the_summary_shows_the_targets_as_the_forms_do(tmp_path):
    folder = xlsx_master_survey(tmp_path / "survey")
    assert CliRunner().invoke(cli, ["generate", str(folder)]).exit_code == 0
    answers = {n: {"評価": "達成", "取組実績": "実施した。"} for n in ("1", "2", "3")}
    for form in (folder / "1_配布").glob("*.xlsx"):
        demo.fill_form(form, folder / "2_回収" / form.name, answers)
    res = CliRunner().invoke(cli, ["run", str(folder)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(folder / "3_集計" / "集計結果.xlsx")
    ws = next(ws for ws in wb.worksheets if ws.title == "全施策一覧")
    header = [c.value for c in ws[1]]
    targets = {ws.cell(r, 1).value: ws.cell(r, header.index("目標値") + 1).value for r in range(2, ws.max_row + 1)}
    assert targets == {"1": "60%", "2": "12.5%", "3": "1,234"}


# --- text fields of a returned form -------------------------------------------------------------------

def _answer_columns(env: Env) -> tuple[dict[str, str], dict[str, int]]:
    return form_layout(openpyxl.load_workbook(env.base.filled[TARGET]))


def _collect_json(env: Env) -> dict:
    env.put_valid(exclude={TARGET})
    res = CliRunner().invoke(cli, ["collect", str(env.folder), "--json"], catch_exceptions=False)
    return json.loads(res.stdout)


def _answers(env: Env) -> dict:
    from xlsx_tool import ledger

    with ledger.open_ledger(env.folder / "回収台帳.sqlite3") as book:
        return book.current_answers(env.loaded).answers


def test_a_percentage_or_a_date_typed_into_a_text_field_is_read_as_shown(survey_env: Env):
    env = survey_env

    def edit(_wb, ws, columns, rows):
        first, second = list(rows)[:2]
        ws[f"{columns['取組実績']}{rows[first]}"] = 0.6  # typed 60% in Excel
        ws[f"{columns['取組実績']}{rows[first]}"].number_format = "0%"
        ws[f"{columns['課題・今後の取組']}{rows[first]}"] = dt.datetime(2025, 4, 1)  # typed 2025/4/1
        ws[f"{columns['課題・今後の取組']}{rows[first]}"].number_format = "yyyy/m/d"
        ws[f"{columns['取組実績']}{rows[second]}"] = 1.5  # typed 1 1/2: a fraction, shown as 1.5
        ws[f"{columns['取組実績']}{rows[second]}"].number_format = "# ?/?"

    env.edited("ICT推進課.xlsx", edit)
    data = _collect_json(env)
    first, second = env.base.measures[TARGET][:2]
    answers = _answers(env)
    assert (answers[first]["取組実績"], answers[first]["課題・今後の取組"]) == ("60%", "2025/4/1")
    assert answers[second]["取組実績"] == "1.5"
    found = [p for p in data["problems"] if p["file"] == "2_回収/ICT推進課.xlsx"]
    assert [(p["code"], p["measure"], p["field"]) for p in found] == [("shown-as-number", second, "取組実績")]
    assert next(d for d in data["departments"] if d["department"] == TARGET)["status"] == "submitted"


def test_text_shows_through_its_format_as_excel_shows_it(survey_env: Env):
    """A format's text section puts literals around text, or hides it (;;;): the answer is what
    the cell shows; a required answer that shows nothing is missing."""
    env = survey_env

    def edit(wb, ws, columns, rows):
        from openpyxl.styles import Protection

        first, second = list(rows)[:2]
        for ref, code in ((f"{columns['課題・今後の取組']}{rows[first]}", '"（要確認）"@'),
                          (f"{columns['取組実績']}{rows[second]}", ";;;")):
            ws[ref].number_format = code
            ws[ref].protection = Protection(locked=False)

    env.edited("ICT推進課.xlsx", edit)
    data = _collect_json(env)
    first, second = env.base.measures[TARGET][:2]
    answers = _answers(env)
    assert answers[first]["課題・今後の取組"] == "（要確認）" + env.base.answers[first]["課題・今後の取組"]
    assert second not in answers  # its required answer shows nothing: the measure awaits a fix
    found = [(p["code"], p["measure"], p["field"]) for p in data["problems"] if p["file"] == "2_回収/ICT推進課.xlsx"]
    assert found == [("required", second, "取組実績")]


@pytest.mark.libreoffice
@pytest.mark.parametrize("locale", ["ja-JP", "en-US"])
def test_typed_in_libreoffice_a_text_field_keeps_what_libreoffice_shows(survey_env: Env, locale):
    libreoffice_or_skip()
    env = survey_env
    columns, rows = _answer_columns(env)
    first = env.base.measures[TARGET][0]
    cells = {"取組実績": f"{columns['取組実績']}{rows[first]}", "課題・今後の取組": f"{columns['課題・今後の取組']}{rows[first]}"}
    result = lo_edit(env.base.filled[TARGET], env.returns / "ICT推進課.xlsx", [
        {"op": "type", "sheet": "調査票", "cell": cells["取組実績"], "text": "60%"},
        {"op": "type", "sheet": "調査票", "cell": cells["課題・今後の取組"], "text": "2025/4/1"},
    ], locale=locale)
    shown_there = {e["cell"]: e["display"] for e in result["edits"]}
    assert result["edits"][0]["kind"] == "VALUE"  # Calc made the typed 60% a number, as Excel does
    _collect_json(env)
    answers = _answers(env)[first]
    assert {f: answers[f] for f in cells} == {f: shown_there[c] for f, c in cells.items()}
    if locale == "ja-JP":
        assert answers["取組実績"] == "60%"
