"""Issue 26: the reason for a changed rating, asked on the form and carried into the report.

A 2020-style survey (its template asks 評価の変更理由) goes through the CLI: forms generated,
filled as departments would (openpyxl), collected. What comes out is read back with openpyxl.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.survey_helpers import make_survey
from xlsx_tool.cli import cli
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import load
from xlsx_tool.demo import fill_form
from xlsx_tool.forms import layout as L
from xlsx_tool.forms import writer as W

pytestmark = pytest.mark.cycle

runner = CliRunner()
REASON = "評価の変更理由"
HEADER = ["施策番号", "施策名", "基本目標", "所管課", "前年度評価", "前年度方向性"]
ROWS = [
    [1, "新公会計システムの運用", "① 開かれた区政の実現", "財政課", "B", "計画どおり推進"],
    [2, "電子申請の拡大", "① 開かれた区政の実現", "財政課", "A", "事業拡大"],
    [3, "旧システムの廃止", "① 開かれた区政の実現", "財政課", "A", "完了"],  # 終了: not asked
    [4, "窓口キャッシュレス化", "② 区民サービスの向上", "区民課", "C", "計画修正"],
    [5, "AI議事録の導入", "② 区民サービスの向上", "区民課", "", ""],  # new this year: nothing to differ from
    [6, "EMSツールを活用した環境データの一元管理", "② 区民サービスの向上", "区民課", "B", "計画どおり推進"],
    [7, "RPAを活用した業務効率化の推進", "② 区民サービスの向上", "区民課", "B", "計画どおり推進"],
    [8, "AIを活用したシステムの導入", "② 区民サービスの向上", "区民課", "B", "計画どおり推進"],
]
# The reference report's own reasons (../shared/reference/004_…): No.4 and No.27, 40, 41 there.
FIRST = "新公会計システムにて財務諸表を作成及び公表をすることができた"
SHARED = "着実に検討が進み、計画どおりのスケジュールで進捗しており"


def answer(rating: str, direction: str = "計画どおり推進", reason: str = "") -> dict[str, str]:
    found = {"評価": rating, "方向性": direction, "取組実績": f"{rating}評価の取組を実施した。"}
    if reason:
        found[REASON] = reason
    return found


FINANCE_WITHOUT_REASON = {"1": answer("A"), "2": answer("A", "事業拡大", "前年度に続き目標を達成した")}
FINANCE = {"1": answer("A", reason=FIRST), "2": FINANCE_WITHOUT_REASON["2"]}
CITIZENS = {
    "4": answer("B", "計画修正", "窓口で新しい決済端末の運用を開始した。"),  # a trailing 。 the sentence drops
    "5": answer("A"),  # new: no reason asked
    "6": answer("A", reason=SHARED), "7": answer("A", reason=SHARED + "。"),  # one reason: one sentence
    "8": answer("A", reason="新システムの運用を開始しました。"),  # です・ます調: quoted for the writer
}
DEPARTMENTS = "所管課,担当者,内線,メール\n財政課,佐藤 一郎,2101,zaisei@example.lg.jp\n区民課,鈴木 花子,2201,kumin@example.lg.jp\n"
MAIL = '\n[mail]\nfrom = "joho@example.lg.jp"\nfrom_name = "情報政策課"\n'


def respondent(loaded) -> dict[str, tuple[int, str]]:
    at = L.respondent_cells(L.columns(loaded))
    return {"記入者": (at["記入者"][1] + 1, "山田 太郎"), "内線": (at["内線"][1] + 1, "2021")}


def build(folder: Path) -> Path:
    def edit(text: str) -> str:
        return text.replace('master = "施策マスタ.csv"', 'master = "施策マスタ.csv"\ndepartments = "所管課一覧.csv"') + MAIL
    make_survey(folder, "2020", HEADER, ROWS, edit)
    (folder / "所管課一覧.csv").write_text(DEPARTMENTS, encoding="utf-8-sig")
    assert runner.invoke(cli, ["check", str(folder)]).exit_code == 0
    assert runner.invoke(cli, ["generate", str(folder)]).exit_code == 0
    return folder


def form_of(folder: Path, department: str) -> Path:
    loaded, _ = load(folder)
    return folder / S.FORMS_DIR / L.file_names(loaded.survey, loaded.master.departments)[department]


def send_back(folder: Path, department: str, answers: dict, name: str | None = None) -> Path:
    loaded, _ = load(folder)
    form = form_of(folder, department)
    out = folder / S.RETURNS_DIR / (name or form.name)
    fill_form(form, out, answers, respondent(loaded))
    return out


def collect_json(folder: Path) -> tuple[int, dict]:
    res = runner.invoke(cli, ["collect", str(folder), "--json"])
    return res.exit_code, json.loads(res.stdout)


def cell_of(folder: Path, measure: str, field: str) -> str:
    """The input cell of a measure's field on its form: from the layout, not typed in by hand."""
    loaded, _ = load(folder)
    cols = [c.key for c in L.columns(loaded)]
    department = loaded.by_number[measure].department
    row = L.FIRST_ROW + 1 + [m.number for m in loaded.measures_of(department)].index(measure)
    return L.cell_ref(row, cols.index(field) + 1)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("reasons") / "survey")


@pytest.fixture
def survey(generated, tmp_path) -> Path:
    return Path(shutil.copytree(generated, tmp_path / "survey"))


@pytest.fixture(scope="module")
def without_reason(generated, tmp_path_factory) -> tuple[Path, int, dict]:
    """財政課 changed No.1's rating (B → A) and gave no reason; 区民課 gave every reason."""
    folder = Path(shutil.copytree(generated, tmp_path_factory.mktemp("first") / "survey"))
    send_back(folder, "財政課", FINANCE_WITHOUT_REASON)
    send_back(folder, "区民課", CITIZENS)
    code, data = collect_json(folder)
    return folder, code, data


@pytest.fixture(scope="module")
def with_reasons(generated, tmp_path_factory) -> tuple[Path, dict]:
    folder = Path(shutil.copytree(generated, tmp_path_factory.mktemp("all") / "survey"))
    send_back(folder, "財政課", FINANCE)
    send_back(folder, "区民課", CITIZENS)
    code, collected = collect_json(folder)
    assert code == 0, collected["problems"]
    res = runner.invoke(cli, ["summarize", str(folder), "--json"])
    assert res.exit_code == 0, res.output
    return folder, json.loads(res.stdout)


# --- the form ---------------------------------------------------------------------------------

def test_the_form_asks_the_reason_where_a_rating_can_change_from_last_years(generated):
    form = form_of(generated, "財政課")
    ws = openpyxl.load_workbook(form)["調査票"]
    reason, rating = cell_of(generated, "1", REASON), cell_of(generated, "1", "評価")
    column = reason.rstrip("0123456789")
    assert ws[f"{column}{L.HEADER_ROW + 1}"].value == f"{REASON}\n（評価を変えたら必須）"
    assert not ws[reason].protection.locked  # an input cell
    rules = {str(cf.sqref): [(r.type, r.formula, r.dxf.fill.bgColor.rgb[-6:]) for r in cf.rules]
             for cf in ws.conditional_formatting if str(cf.sqref).startswith(column)}
    col = rating.rstrip("0123456789")
    # orange (the legend's colour of an empty required cell) while empty and the rating is not 前年度評価
    assert rules == {
        f"{column}6": [("expression", [f'AND(LEN({column}6)=0,AND(LEN(${col}6)>0,${col}6<>"B"))'], W.REQUIRED_FILL[1:])],
        f"{column}7": [("expression", [f'AND(LEN({column}7)=0,AND(LEN(${col}7)>0,${col}7<>"A"))'], W.REQUIRED_FILL[1:])],
    }  # row 8 is 終了 (locked, grey): no rule
    messages = {str(dv.sqref): dv.prompt for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(column)}
    assert messages[f"{column}6"].startswith("前年度評価は「B」です。評価を「B」から変えた場合は、変えた理由を入力してください")
    assert messages[f"{column}7"].startswith("前年度評価は「A」です。")
    told = [str(c.value) for row in openpyxl.load_workbook(form)["記入要領"].iter_rows() for c in row if c.value]
    assert f"評価（必須）：一覧から選択。前年度から変えたときは「{REASON}」も入力" in told
    # a new measure (no 前年度評価) is told it needs none, and is never highlighted
    ws = openpyxl.load_workbook(form_of(generated, "区民課"))["調査票"]
    new = cell_of(generated, "5", REASON)
    assert not [cf for cf in ws.conditional_formatting if str(cf.sqref) == new]
    assert {str(dv.sqref): dv.prompt for dv in ws.data_validations.dataValidation}[new] == \
        "前年度評価のない施策のため、入力は不要です。"


def test_a_survey_without_a_previous_year_has_no_reason_column_and_check_says_why(tmp_path):
    folder = make_survey(tmp_path / "s", "2020", HEADER, [r[:4] + ["", ""] for r in ROWS if r[0] != 3])
    res = runner.invoke(cli, ["check", str(folder)])
    assert res.exit_code == 0
    assert f"[お知らせ] 施策マスタ.csv 列「前年度評価」: 前年度評価のある施策がないため、「{REASON}」" in res.output
    assert runner.invoke(cli, ["generate", str(folder)]).exit_code == 0
    headers = [c.value for c in openpyxl.load_workbook(form_of(folder, "財政課"))["調査票"][L.HEADER_ROW + 1]]
    assert headers and not any(REASON in str(h) for h in headers)


# --- collect ----------------------------------------------------------------------------------

def test_a_changed_rating_without_a_reason_is_a_problem_to_fix(without_reason):
    folder, code, data = without_reason
    assert code == 1
    status = {d["department"]: d["status"] for d in data["departments"]}
    assert status == {"財政課": "needs_fix", "区民課": "submitted"}
    errors = [p for p in data["problems"] if p["severity"] == "error"]
    assert [(p["department"], p["cell"], p["measure"], p["field"]) for p in errors] == [
        ("財政課", cell_of(folder, "1", REASON), "1", REASON)]
    assert errors[0]["message"] == ("評価を前年度の「B」から「A」に変えた場合は「評価の変更理由」が必要です。"
                                    "変えた理由を入力してください（例：新システムの運用を開始した）。")
    # the console names it at its cell, with the measure
    res = runner.invoke(cli, ["collect", str(folder)])
    assert f"セル {cell_of(folder, '1', REASON)} 施策番号 1: 評価を前年度の「B」から「A」に変えた場合は" in res.output


def test_the_correction_copy_marks_the_reason_cell_until_a_reason_is_typed(without_reason):
    folder, _code, _data = without_reason
    (copy,) = (folder / S.OUTPUT_DIR / "修正依頼").glob("*.xlsx")
    assert "財政課" in copy.name
    ws = openpyxl.load_workbook(copy)["調査票"]
    reason, rating = cell_of(folder, "1", REASON), cell_of(folder, "1", "評価")
    col = rating.rstrip("0123456789")
    red = [r for cf in ws.conditional_formatting if str(cf.sqref) == reason for r in cf.rules
           if r.dxf.fill.bgColor.rgb[-6:] == W.PROBLEM_FILL[1:]]
    assert [(r.formula, r.stopIfTrue) for r in red] == [
        ([f'AND(LEN({reason})=0,AND(LEN(${col}6)>0,${col}6<>"B"))'], True)]  # cleared by a reason (or by B again)
    assert ws[rating].value == "A"  # the department's answers kept
    reasons = {ws.cell(L.HEADER_ROW + 1, c).value: c for c in range(1, ws.max_column + 1)}
    printed = ws.cell(6, reasons[W.REASON_HEADER]).value
    assert "「評価の変更理由」が必要です" in printed and not printed.startswith(REASON + "：")


def test_an_unchanged_rating_keeps_its_reason_and_new_measures_need_none(without_reason):
    folder, _code, data = without_reason
    assert not [p for p in data["problems"] if p["measure"] in ("2", "5") and p["severity"] != "notice"]
    # the kept reason is an answer of its field: 全施策一覧 shows it (after the fix, below)
