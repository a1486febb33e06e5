"""Three consecutive years of a 2020-style survey, driven through the CLI (issue 10).

平成30年度 (FY2018) → 令和元年度 → 令和2年度: each year is generated, filled by the departments,
collected and summarised; the next year starts with `init --from`. The carried masters get
no hand edit (a measure is added in year two as a plan change), 完了 turns into 終了 the next
year, the change lists are exact, and the history grows to three years with a chart.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xlsx_tool.cli import cli
from xlsx_tool.define.master import load
from xlsx_tool.demo import fill_form
from xlsx_tool.forms.layout import file_names

# Built on a whole yearly cycle in a module fixture (seconds under mutmut); see pyproject.toml.
pytestmark = pytest.mark.cycle

runner = CliRunner()
HEADER = ["施策番号", "施策名", "基本目標", "所管課"]
MASTER = [[1, "施策1", "① 行政運営の効率化", "情報政策課"], [2, "施策2", "① 行政運営の効率化", "情報政策課"],
          [3, "施策3", "① 行政運営の効率化", "区民課"], [4, "施策4", "② 区民サービスの向上", "区民課"],
          [5, "施策5", "② 区民サービスの向上", "情報政策課"], [6, "施策6", "② 区民サービスの向上", "区民課"],
          [7, "施策7", "① 行政運営の効率化", "区民課"], [8, "施策8", "② 区民サービスの向上", "情報政策課"]]
# measure -> (評価, 方向性), per year; ended measures are not asked
YEAR1 = {"1": ("A", "計画どおり推進"), "2": ("B", "計画どおり推進"), "3": ("A", "完了"), "4": ("C", "計画修正"),
         "5": ("B", "事業拡大"), "6": ("A", "計画どおり推進"), "7": ("その他", "中止（休止）"), "8": ("B", "完了")}
YEAR2 = {"1": ("A", "計画どおり推進"), "2": ("A", "計画どおり推進"), "4": ("B", "計画どおり推進"),
         "5": ("C", "計画修正"), "6": ("A", "完了"), "7": ("A", "計画どおり推進"), "9": ("B", "計画どおり推進")}
YEAR3 = {"1": ("B", "計画どおり推進"), "2": ("A", "計画どおり推進"), "4": ("A", "計画どおり推進"),
         "5": ("C", "計画修正"), "7": ("A", "計画どおり推進"), "9": ("A", "計画どおり推進")}


def cli_ok(*args: str, code: int = 0) -> str:
    res = runner.invoke(cli, list(args))
    assert res.exit_code == code, res.output
    return res.stdout


def set_deadline(folder: Path, text: str) -> None:
    toml = folder / "survey.toml"
    toml.write_text(re.sub(r'(?m)^deadline = .*$', f'deadline = "{text}"', toml.read_text(encoding="utf-8")),
                    encoding="utf-8")


def run_year(folder: Path, answers: dict[str, tuple[str, str]]) -> dict:
    """generate, the departments fill their forms, collect, summarize --json."""
    cli_ok("generate", str(folder))
    loaded, _ = load(folder)
    names = file_names(loaded.survey, loaded.master.departments)
    typed = {n: {"評価": r, "方向性": d, "取組実績": f"施策{n}の{loaded.survey.year_label}の取組"}
             for n, (r, d) in answers.items()}
    for n, (r, _d) in answers.items():  # a rating changed from last year's comes with its reason
        if n in loaded.by_number and loaded.by_number[n].previous_rating not in ("", r):
            typed[n]["評価の変更理由"] = f"施策{n}の状況が変わった"
    for department in loaded.asked:
        form = folder / "1_配布" / names[department]
        fill_form(form, folder / "2_回収" / form.name, typed)
    cli_ok("collect", str(folder))
    return json.loads(cli_ok("summarize", str(folder), "--json"))


def changes(data: dict) -> set[tuple[str, str, str, str]]:
    return {(c["measure"], c["previous"], c["current"], c["trend"]) for c in data["changes"]}


def directions(data: dict) -> dict[str, tuple[int, dict]]:
    return {d["value"]: (d["count"], d["breakdown"]) for d in data["directions"] if d["count"]}


@pytest.fixture(scope="module")
def years(tmp_path_factory):
    root = tmp_path_factory.mktemp("years")
    y1, y2, y3 = root / "平成30年度調査", root / "令和元年度調査", root / "令和2年度調査"
    # year 1, from the template
    cli_ok("init", str(y1), "--template", "2020", "--year", "2018")
    toml = y1 / "survey.toml"
    text = toml.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^contact = .*$', 'contact = "情報政策課（内線 2021）"', text)
    text = re.sub(r'(?m)^return_to = .*$', 'return_to = "joho@example.lg.jp"', text)
    text = text.replace('master = "施策マスタ.xlsx"', 'master = "施策マスタ.csv"').replace(
        'departments = "所管課一覧.xlsx"', 'departments = "所管課一覧.csv"')
    toml.write_text(text, encoding="utf-8")
    set_deadline(y1, "平成31年4月26日（金）")
    with open(y1 / "施策マスタ.csv", "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *MASTER])
    with open(y1 / "所管課一覧.csv", "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["所管課", "担当者", "内線", "メール"], ["情報政策課", "佐藤", "2021", "joho@example.lg.jp"],
                                  ["区民課", "鈴木", "2300", "kumin@example.lg.jp"]])
    (y1 / "施策マスタ.xlsx").unlink()
    (y1 / "所管課一覧.xlsx").unlink()
    cli_ok("check", str(y1))
    first = run_year(y1, YEAR1)
    # year 2: carried; only the deadline is written before check passes
    cli_ok("init", str(y2), "--from", str(y1))
    carried_master = (y2 / "施策マスタ.csv").read_text(encoding="utf-8-sig")
    assert "提出期限" in runner.invoke(cli, ["check", str(y2)]).output  # the deadline placeholder
    set_deadline(y2, "令和2年4月24日（金）")
    checked = cli_ok("check", str(y2))
    # the plan changes: a measure is added in year two
    with open(y2 / "施策マスタ.csv", "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerow([9, "施策9", "② 区民サービスの向上", "情報政策課", "", "", ""])
    second = run_year(y2, YEAR2)
    # year 3: carried, no edit but the deadline
    cli_ok("init", str(y3), "--from", str(y2))
    set_deadline(y3, "令和3年4月23日（金）")
    cli_ok("check", str(y3))
    third = run_year(y3, YEAR3)
    return {"roots": (y1, y2, y3), "json": (first, second, third), "carried": carried_master, "checked": checked}


def test_carried_master_needs_no_hand_edit(years):
    rows = list(csv.DictReader(years["carried"].splitlines()))
    by_number = {r["施策番号"]: r for r in rows}
    assert (by_number["3"]["前年度評価"], by_number["3"]["前年度方向性"]) == ("A", "完了")
    assert (by_number["4"]["前年度評価"], by_number["4"]["前年度方向性"]) == ("C", "計画修正")
    assert by_number["3"]["前年度施策番号"] == "3"
    assert "エラーはありません" in years["checked"]


def test_completed_becomes_ended_the_next_year(years):
    _first, second, third = years["json"]
    assert directions(second)["完了"] == (3, {"A": 1, "終了": 2})  # 完了's 内訳 counts 終了
    assert {r["value"]: r["count"] for r in second["ratings"]}["終了"] == 2
    assert {r["value"]: r["count"] for r in third["ratings"]}["終了"] == 3  # 3, 8 stay; 6 joins
    y2 = years["roots"][1]
    loaded, _ = load(y2)
    ended_forms = {m.number for m in loaded.master.measures if m.ended}
    assert ended_forms == {"3", "8"}
    # the ended rows are pre-filled and locked in the forms
    form = next((y2 / "1_配布").glob("*区民課*"))
    ws = openpyxl.load_workbook(form)["調査票"]
    row = next(r for r in ws.iter_rows(min_row=6) if str(r[0].value) == "3")
    shown = [c.value for c in row]
    assert "終了" in shown and "完了" in shown
    assert all(c.protection.locked for c in row)


def test_change_lists_are_exact(years):
    _first, second, third = years["json"]
    assert changes(second) == {("2", "B", "A", "improved"), ("4", "C", "B", "improved"), ("5", "B", "C", "declined"),
                               ("7", "その他", "A", "unranked"), ("3", "A", "終了", "unranked"),
                               ("8", "B", "終了", "unranked")}
    assert not any(c["measure"] == "9" for c in second["changes"])  # added this year: nothing to compare
    assert changes(third) == {("1", "A", "B", "declined"), ("4", "B", "A", "improved"),
                              ("9", "B", "A", "improved"), ("6", "A", "終了", "unranked")}


def test_era_boundary_labels(years):
    y1, y2, y3 = years["roots"]
    book = openpyxl.load_workbook(y2 / "3_集計" / "集計結果.xlsx", data_only=True)
    assert book["評価別集計表"]["A1"].value == "令和元年度における評価別集計表"
    assert book["前年度比較"]["A1"].value == "前年度から評価が変わった施策（令和元年度、平成30年度との比較）"
    report = [r[0] for r in book["報告文案"].iter_rows(values_only=True) if r[0]]
    assert "平成30年度C評価であった【No.４ 施策4】は、施策4の状況が変わったことにより、B評価に改善した。" in report
    assert "また、平成30年度B評価であった【No.５ 施策5】が、施策5の状況が変わったことにより、C評価となった。" in report
    book3 = openpyxl.load_workbook(y3 / "3_集計" / "集計結果.xlsx", data_only=True)
    assert book3["評価別集計表"]["A1"].value == "令和２年度における評価別集計表"
    assert "令和元年度A評価であった【No.１ 施策1】が、施策1の状況が変わったことにより、B評価となった。" in \
        [r[0] for r in book3["報告文案"].iter_rows(values_only=True)]
    assert openpyxl.load_workbook(y1 / "3_集計" / "集計結果.xlsx")["評価別集計表"]["A1"].value == \
        "平成30年度における評価別集計表"


def test_history_shows_two_then_three_years_with_a_chart(years):
    first, second, third = years["json"]
    assert [h["label"] for h in first["history"]] == ["平成30年度"]
    assert [h["label"] for h in second["history"]] == ["平成30年度", "令和元年度"]
    assert [(h["fiscal_year"], h["total"]) for h in third["history"]] == [(2018, 8), (2019, 9), (2020, 9)]
    assert third["history"][1]["ratings"] == {r["value"]: r["count"] for r in second["ratings"]}
    _y1, y2, y3 = years["roots"]
    for folder, count in ((y2, 2), (y3, 3)):
        path = folder / "3_集計" / "集計結果.xlsx"
        ws = openpyxl.load_workbook(path, data_only=True)["経年比較"]
        labels = [ws.cell(r, 1).value for r in range(4, 4 + count)]
        assert labels[-1] == ("令和元年度" if count == 2 else "令和２年度") and labels[0] == "平成30年度"
        with zipfile.ZipFile(path) as z:
            charts = [z.read(n).decode() for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        assert any("<c:barDir val=\"col\"/>" in c and "経年比較" in c for c in charts)


def test_a_moved_earlier_folder_is_reported_not_fatal(years, tmp_path):
    import shutil

    y1, y2, _y3 = years["roots"]
    moved = tmp_path / "移動後"
    shutil.copytree(y2, moved)  # its link to 平成30年度 no longer resolves from here
    res = runner.invoke(cli, ["summarize", str(moved), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [h["label"] for h in data["history"]] == ["令和元年度"]
    assert "前年度の調査フォルダ" in res.stderr and "見つかりません" in res.stderr
    del y1


def test_incomplete_previous_year_stops_init_unless_allowed(years, tmp_path):
    y1, _y2, _y3 = years["roots"]
    import shutil

    partial = tmp_path / "未完了"
    shutil.copytree(y1, partial)
    gone = next((partial / "2_回収").glob("*区民課*"))
    gone.unlink()
    # a file that left 2_回収 still counts (the ledger keeps its answers), and is named
    kept = runner.invoke(cli, ["collect", str(partial)])
    assert "2_回収 にありません" in kept.output and "--forget-missing" in kept.output
    assert runner.invoke(cli, ["init", str(tmp_path / "保持"), "--from", str(partial)]).exit_code == 0
    # until the section lets it go
    forgot = runner.invoke(cli, ["collect", str(partial), "--forget-missing"])
    assert f"[取り下げ] 2_回収/{gone.name}" in forgot.output and forgot.exit_code == 1
    res = runner.invoke(cli, ["init", str(tmp_path / "翌年"), "--from", str(partial)])
    assert res.exit_code == 2 and "評価のない施策が" in res.output and "--allow-incomplete" in res.output
    assert "施策番号 3" in res.output or "施策番号「3」" in res.output
    assert not (tmp_path / "翌年" / "survey.toml").exists()
    ok = runner.invoke(cli, ["init", str(tmp_path / "翌年"), "--from", str(partial), "--allow-incomplete"])
    assert ok.exit_code == 0 and "前年度評価が空欄" in ok.output


def test_check_reports_measures_gone_since_last_year(years, tmp_path):
    import shutil

    _y1, y2, _y3 = years["roots"]
    nxt = tmp_path / "翌年"
    cli_ok("init", str(nxt), "--from", str(y2))
    rows = list(csv.reader((nxt / "施策マスタ.csv").read_text(encoding="utf-8-sig").splitlines()))
    kept = [r for r in rows if r[0] != "7"]
    with open(nxt / "施策マスタ.csv", "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(kept)
    set_deadline(nxt, "令和3年4月23日（金）")
    res = runner.invoke(cli, ["check", str(nxt)])
    assert "前年度（令和元年度）の施策番号「7」（施策7）が今年度の施策マスタにありません" in res.output
    del shutil


def test_prefill_puts_last_years_text_on_the_form(years, tmp_path):
    import shutil

    _y1, y2, _y3 = years["roots"]
    nxt = tmp_path / "下書き"
    cli_ok("init", str(nxt), "--from", str(y2))
    set_deadline(nxt, "令和3年4月23日（金）")
    cli_ok("generate", str(nxt), "--prefill")
    form = next((nxt / "1_配布").glob("*情報政策課*"))
    ws = openpyxl.load_workbook(form)["調査票"]
    texts = [c.value for row in ws.iter_rows(min_row=6) for c in row if isinstance(c.value, str)]
    assert "施策1の令和元年度の取組" in texts
    del shutil
