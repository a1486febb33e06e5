"""Issue 26: the reason for a changed rating, asked on the form and carried into the report.

A 2020-style survey (its template asks 評価の変更理由) goes through the CLI: forms generated,
filled as departments would (openpyxl; LibreOffice in the test marked so), collected, summarized.
What comes out is read back with independent readers: openpyxl for the forms, correction copies
and 集計結果, python-docx for 実績報告書.docx, LibreOffice's print for the highlight. The receipts
that follow a collect are in tests/test_receipts.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from tests.support.lo import convert, libreoffice_or_skip, lo_fill
from tests.support.pdf import pages, pdftotext_available
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
    [9, "庁内LANの更新", "① 開かれた区政の実現", "財政課", "B", "計画どおり推進"],  # B again, after A and 終了
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


FINANCE_WITHOUT_REASON = {"1": answer("A"), "2": answer("A", "事業拡大", "前年度に続き目標を達成した"), "9": answer("B")}
FINANCE = {**FINANCE_WITHOUT_REASON, "1": answer("A", reason=FIRST)}
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
    # orange (the legend's colour of an empty required cell) while the reason is empty and the rating
    # chosen is not 前年度評価: one rule per previous value over its rows (No.1 and No.9 were B), relative
    # to the topmost (LibreOffice shows both: the test below); row 8 is 終了 (locked, grey): none
    assert rules == {
        f"{column}6 {column}9": [("expression", [f'AND(LEN({column}6)=0,AND(LEN(${col}6)>0,${col}6<>"B"))'],
                                  W.REQUIRED_FILL[1:])],
        f"{column}7": [("expression", [f'AND(LEN({column}7)=0,AND(LEN(${col}7)>0,${col}7<>"A"))'], W.REQUIRED_FILL[1:])]}
    messages = {str(dv.sqref): dv.prompt for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(column)}
    assert sorted(messages) == [f"{column}6 {column}9", f"{column}7"]  # one message per 前年度評価
    assert messages[f"{column}6 {column}9"].startswith(
        "前年度評価は「B」です。評価を「B」から変えた場合は、変えた理由を入力してください")
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
    # red until a reason is typed, or the rating is set back to B (LibreOffice shows it: below)
    assert [(r.formula, r.stopIfTrue) for r in red] == [
        ([f'AND(LEN({reason})=0,AND(LEN(${col}6)>0,${col}6<>"B"))'], True)]
    assert ws[rating].value == "A"  # the department's answers kept
    reasons = {ws.cell(L.HEADER_ROW + 1, c).value: c for c in range(1, ws.max_column + 1)}
    printed = ws.cell(6, reasons[W.REASON_HEADER]).value
    assert "「評価の変更理由」が必要です" in printed and not printed.startswith(REASON + "：")


def test_an_unchanged_rating_keeps_its_reason_and_new_measures_need_none(without_reason):
    folder, _code, data = without_reason
    assert not [p for p in data["problems"] if p["measure"] in ("2", "5") and p["severity"] != "notice"]
    # the kept reason is an answer of its field: 全施策一覧 shows it (after the fix, below)


def test_reasons_reach_the_ledger_the_measure_list_and_json(with_reasons):
    folder, data = with_reasons
    changes = {c["measure"]: (c["previous"], c["current"], c["trend"], c["reason"]) for c in data["changes"]}
    assert changes == {
        "1": ("B", "A", "improved", FIRST), "4": ("C", "B", "improved", "窓口で新しい決済端末の運用を開始した。"),
        "6": ("B", "A", "improved", SHARED), "7": ("B", "A", "improved", SHARED + "。"),
        "8": ("B", "A", "improved", "新システムの運用を開始しました。"), "3": ("A", "終了", "unranked", None)}
    book = openpyxl.load_workbook(data["output"])
    ws = book["全施策一覧"]
    head = [c.value for c in ws[1]]
    rows = {str(r[0]): dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["1"][REASON] == FIRST
    assert rows["2"][REASON] == "前年度に続き目標を達成した"  # an unchanged rating keeps its reason
    assert not rows["5"][REASON]
    ws = book["前年度比較"]
    head = [c.value for c in ws[3]]
    assert head[-1] == REASON
    listed = {str(r[0]): r[-1] for r in ws.iter_rows(min_row=4, values_only=True) if r[0] and r[1]}
    assert listed["1"] == FIRST and listed["8"] == "新システムの運用を開始しました。"


SENTENCES = [
    f"令和２年度B評価であった【No.１ 新公会計システムの運用】は、{FIRST}ことにより、A評価に改善した。",
    "令和２年度C評価であった【No.４ 窓口キャッシュレス化】は、窓口で新しい決済端末の運用を開始したことにより、B評価に改善した。",
    "また、令和２年度B評価であった【No.６ EMSツールを活用した環境データの一元管理】、【No.７ RPAを活用した業務効率化の推進】は、"
    f"{SHARED}、A評価に改善した。",
    "また、令和２年度B評価であった【No.８ AIを活用したシステムの導入】は、「新システムの運用を開始しました」ことにより、A評価に改善した。",
]
QUOTED = "「新システムの運用を開始しました」ことにより"


def test_the_report_writes_each_reason_in_its_own_sentence(with_reasons):
    """The report's pattern, 「…は、<reason>ことにより、A評価に改善した。」; No.6 and No.7 share one reason
    (a trailing 。 aside) and one sentence, as the reference joins No.27, 40 and 41; No.8's reason is its
    own sentence, its です・ます quoted and highlighted for the writer."""
    folder, data = with_reasons
    lines = [str(r[0]) for r in openpyxl.load_workbook(data["output"])["報告文案"].iter_rows(values_only=True) if r[0]]
    for sentence in SENTENCES:
        assert sentence in lines, sentence
    assert lines.index(SENTENCES[2]) == lines.index(SENTENCES[1]) + 1  # one move, then the next
    paragraphs = [p.text for p in docx.Document(data["document"]).paragraphs]
    for sentence in SENTENCES:
        assert sentence in paragraphs, sentence
    assert not any("（理由を記入）" in p for p in paragraphs)  # every change has its reason


def test_a_reason_that_does_not_fit_the_sentence_is_highlighted_with_a_comment(with_reasons):
    _folder, data = with_reasons
    doc = docx.Document(data["document"])
    (paragraph,) = [p for p in doc.paragraphs if p.text == SENTENCES[3]]
    marked = [r.text for r in paragraph.runs if r.font.highlight_color is not None]
    assert marked == [QUOTED]
    comments = [c.text for c in doc.comments]
    (note,) = [c for c in comments if "そのまま引用" in c]
    assert "です・ます調" in note and "No.8 AIを活用したシステムの導入（区民課）【B評価 → A評価】" in note
    # the 報告文案 sheet: the quoted clause red on yellow, the same help as the cell's comment
    ws = openpyxl.load_workbook(data["output"], rich_text=True)["報告文案"]
    (cell,) = [c for row in ws.iter_rows() for c in row if str(c.value) == SENTENCES[3]]
    red = [b.text for b in cell.value if hasattr(b, "font") and b.font.color is not None
           and isinstance(b.font.color.rgb, str) and b.font.color.rgb.endswith("C00000")]
    assert red == [QUOTED]
    assert "です・ます調" in cell.comment.text
    # the reason itself is in the summarize --json report model as a placeholder with that help
    found = [p for s in data["report"] for b in s["content"] if b["type"] == "paragraph" for p in b["placeholders"]]
    assert [p["text"] for p in found if p["text"] == QUOTED] == [QUOTED]


# --- LibreOffice: the highlight appears and clears; the reason typed there is collected ---------

ORANGE = tuple(int(W.REQUIRED_FILL[i:i + 2], 16) for i in (1, 3, 5))
RED = tuple(int(W.PROBLEM_FILL[i:i + 2], 16) for i in (1, 3, 5))


def orange_at(pdf: Path, page: int, points: list[tuple[float, float]], tmp: Path,
              colour: tuple[int, ...] = ORANGE) -> list[bool]:
    """Whether the printed page is orange (the highlight; or `colour`) around each point (x, y in
    points): the page rendered with pdftoppm and read as a PPM, no imaging library needed."""
    dpi = 50
    prefix = tmp / f"{pdf.stem}-{page}"
    subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), str(pdf), str(prefix)],
                   check=True, timeout=120)
    (ppm,) = tmp.glob(f"{prefix.name}-*.ppm")
    data = ppm.read_bytes()
    ppm.unlink()
    fields, offset = [], 0
    while len(fields) < 4:  # "P6", width, height, maxval, separated by white space
        while data[offset:offset + 1].isspace():
            offset += 1
        start = offset
        while not data[offset:offset + 1].isspace():
            offset += 1
        fields.append(data[start:offset])
    width, pixels = int(fields[1]), data[offset + 1:]
    found = []
    for x, y in points:
        px, py = round(x * dpi / 72), round(y * dpi / 72)
        window = [pixels[3 * (j * width + i):3 * (j * width + i) + 3] for j in range(py - 2, py + 3)
                  for i in range(px - 2, px + 3)]
        found.append(sum(all(abs(p[k] - colour[k]) <= 3 for k in range(3)) for p in window) > len(window) // 2)
    return found


@pytest.mark.libreoffice
def test_libreoffice_shows_the_reason_wanted_until_it_is_typed_and_the_reason_is_collected(survey, tmp_path):
    libreoffice_or_skip()
    if not pdftotext_available() or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed")
    form = form_of(survey, "財政課")
    at = {(m, f): cell_of(survey, m, f) for m in ("1", "2", "9") for f in ("評価", "方向性", "取組実績", REASON)}
    # No.1 (B) and No.9 (B, three rows down: the same rule) changed to A, No.2 (A) kept; no reason yet
    filled = {at["1", "評価"]: "A", at["1", "方向性"]: "計画どおり推進", at["1", "取組実績"]: "公表した",
              at["2", "評価"]: "A", at["2", "方向性"]: "事業拡大", at["2", "取組実績"]: "継続した",
              at["9", "評価"]: "A", at["9", "方向性"]: "計画どおり推進", at["9", "取組実績"]: "更新した"}
    def highlighted(saved: Path) -> list[bool]:
        """Whether the reason cells of No.1, No.2 and No.9 print orange."""
        pdf = convert(saved, "pdf", tmp_path / saved.stem)
        page = next(p for p in pages(pdf) if p.width > p.height)  # the input sheet prints landscape
        head = next(w for w in page.words if w.text.startswith(REASON))
        rows = [next(w for w in page.words if w.text.startswith(name)) for name in ("新公会計", "電子申請", "庁内LAN")]
        # inside each row's reason cell, above any text typed there (a row grows with a reason typed)
        return orange_at(pdf, page.number, [((head.x0 + head.x1) / 2, w.y0 + 4) for w in rows], tmp_path)

    changed = tmp_path / "changed.xlsx"
    lo_fill(form, changed, {"調査票": filled})
    # every other required cell is filled: orange is the reason wanted, for No.1 and No.9 only
    assert highlighted(changed) == [True, False, True]
    typed = tmp_path / "typed.xlsx"
    lo_fill(changed, typed, {"調査票": {at["1", REASON]: FIRST}})
    assert highlighted(typed) == [False, False, True]  # cleared by the reason
    again = tmp_path / "again.xlsx"
    lo_fill(typed, again, {"調査票": {at["9", "評価"]: "B"}})  # No.9 back to its 前年度評価: none wanted
    assert highlighted(again) == [False, False, False]
    shutil.copyfile(again, survey / S.RETURNS_DIR / "財政課（LibreOffice）.xlsx")
    code, data = collect_json(survey)
    status = {d["department"]: d["status"] for d in data["departments"]}
    assert status["財政課"] == "submitted" and not [p for p in data["problems"] if p["severity"] == "error"
                                                    and p["department"] == "財政課"]
    send_back(survey, "区民課", CITIZENS)
    assert collect_json(survey)[0] == 0
    res = runner.invoke(cli, ["summarize", str(survey), "--json"])
    assert res.exit_code == 0, res.output
    lines = [str(r[0]) for r in openpyxl.load_workbook(json.loads(res.stdout)["output"])["報告文案"]
             .iter_rows(values_only=True) if r[0]]
    assert SENTENCES[0] in lines


@pytest.mark.libreoffice
def test_libreoffice_shows_the_correction_copys_mark_until_a_reason_is_typed(without_reason, tmp_path):
    libreoffice_or_skip()
    if not pdftotext_available() or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed")
    folder, _code, _data = without_reason
    (copy,) = (folder / S.OUTPUT_DIR / "修正依頼").glob("*.xlsx")
    pdf = convert(copy, "pdf", tmp_path / "a")
    page = next(p for p in pages(pdf) if p.width > p.height)
    head = next(w for w in page.words if w.text.startswith(REASON))
    name = next(w for w in page.words if w.text.startswith("新公会計"))
    cell = [((head.x0 + head.x1) / 2, name.y0 + 4)]
    assert orange_at(pdf, page.number, cell, tmp_path, RED) == [True]
    typed = tmp_path / "typed.xlsx"
    lo_fill(copy, typed, {"調査票": {cell_of(folder, "1", REASON): FIRST}})
    pdf = convert(typed, "pdf", tmp_path / "b")
    assert orange_at(pdf, page.number, cell, tmp_path, RED) == [False]


def test_the_form_and_the_correction_copy_with_the_reason_are_valid_packages(without_reason):
    """Per-row input messages and highlights, and the red mark on the reason: Excel opens them
    without a repair prompt (Microsoft's Open XML SDK validator)."""
    from tests.support.openxml_sdk import validate, validator_or_skip

    validator_or_skip()
    folder, _code, _data = without_reason
    (copy,) = (folder / S.OUTPUT_DIR / "修正依頼").glob("*.xlsx")
    for path in (form_of(folder, "財政課"), form_of(folder, "区民課"), copy):
        assert [str(f) for f in validate(path)] == [], path.name
