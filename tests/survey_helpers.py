"""Building small survey folders in tests: a template definition plus a CSV master."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_master(folder: Path, header: list[str], rows: list[list[object]],
                 name: str = "施策マスタ.csv", encoding: str = "utf-8-sig") -> Path:
    path = folder / name
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def make_survey(folder: Path, template: str = "2025", header: list[str] | None = None,
                rows: list[list[object]] | None = None, toml_edit=None) -> Path:
    """A survey folder from a shipped template with a CSV master (fiscal year 2021)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "templates" / f"{template}.toml").read_text(encoding="utf-8")
    text = text.replace("fiscal_year = 2025", "fiscal_year = 2021").replace(
        'master = "施策マスタ.xlsx"', 'master = "施策マスタ.csv"')
    text = fill_placeholders(text)
    if toml_edit:
        text = toml_edit(text)
    (folder / "survey.toml").write_text(text, encoding="utf-8")
    label = "基本方針" if template == "2025" else "基本目標"
    if header is None:
        header = ["施策番号", "施策名", label, "所管課", "指標", "単位", "目標値", "前年度評価"]
        if template == "2020":
            header.append("前年度方向性")
    if rows is None:
        rows = default_rows(template)
    write_master(folder, header, rows)
    for sub in ("1_配布", "2_回収", "3_集計"):
        (folder / sub).mkdir(exist_ok=True)
    return folder


def default_rows(template: str) -> list[list[object]]:
    if template == "2025":
        return [
            [1, "Web会議の推進", "Ⅰ", "ICT推進課", "Web会議実施回数", "回", 500, "達成"],
            [2, "RPAの拡大", "Ⅰ", "経営改革推進課", "RPA適用業務数", "業務", 30, ""],
            [3, "オンライン申請の拡大", "Ⅲ", "ICT推進課", "", "", "", "未達成"],
            [4, "オープンデータの推進", "Ⅳ", "政策企画課", "公開データセット数", "件", 100, ""],
        ]
    return [
        [1, "庁内ネットワークの再構築", "① 行政運営の効率化", "情報政策課", "", "", "", "B", "計画どおり推進"],
        [2, "電子申請の拡大", "② 区民サービスの向上", "情報政策課", "手続数", "件", 50, "A", "事業拡大"],
        [3, "旧システムの廃止", "① 行政運営の効率化", "情報政策課", "", "", "", "A", "完了"],
        [4, "窓口キャッシュレス化", "② 区民サービスの向上", "区民課", "", "", "", "C", "計画修正"],
    ]


def copy_example(folder: Path) -> Path:
    shutil.copytree(ROOT / "examples" / "ict2025", folder)
    return folder


def fill_placeholders(text: str) -> str:
    """A template as a section would finish it: deadline and contacts written, no department list."""
    text = re.sub(r'(?m)^deadline = .*$', 'deadline = "令和4年5月13日（金）"', text)
    text = re.sub(r'(?m)^contact = .*$', 'contact = "情報政策課（内線 2021）"', text)
    text = re.sub(r'(?m)^return_to = .*$', 'return_to = "情報政策課（joho@example.lg.jp）"', text)
    return re.sub(r'(?m)^departments = .*\n', "", text)


def forms_of(loaded) -> list[Path]:
    """generate, returning the forms written."""
    from xlsx_tool.forms.generate import generate

    return generate(loaded).written
