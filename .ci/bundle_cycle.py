"""The offline bundle as an office uses it: unzipped in a fresh Wine prefix that has no other
Python, run through xlsx-tool.cmd under the users' code page (932).

`--help`, `demo 例`, then one whole year: `init` (the section's edits to survey.toml, the master
and the department list made from Linux with openpyxl, from the bundled example), `check`,
`generate`, the forms filled from Linux with the tool's own demo.fill_form as the departments
would, `collect`, `summarize`; the summary's rating table read back with openpyxl and compared
with the example's published numbers (令和3年度: 達成+ 5, 達成 19, 未達成 1).

    python .ci/bundle_cycle.py --zip DIR/xlsx-tool-<version>-win64.zip --work DIR
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import openpyxl  # noqa: E402

from tests.support.wine import stop_wineserver, wine_run  # noqa: E402
from xlsx_tool import demo as D  # noqa: E402
from xlsx_tool.define import master  # noqa: E402

JAPANESE = {"LC_ALL": "ja_JP.UTF-8"}
EXAMPLE = ROOT / "examples" / "ict2025"
PUBLISHED = {"達成+": 5, "達成": 19, "未達成": 1}  # 令和3年度 実績報告 (shared/reference/000_…)


class Bundle:
    def __init__(self, zip_path: Path, work: Path):
        self.prefix = work / "wine-bundle"
        shutil.rmtree(self.prefix, ignore_errors=True)
        work.mkdir(parents=True, exist_ok=True)
        self.drive = self.prefix / "drive_c"
        self.failures: list[str] = []
        boot = wine_run(["wineboot", "--init"], self.prefix)  # a fresh prefix: nothing but Wine
        self.check(boot.returncode == 0, "wineboot", boot.stderr)
        with zipfile.ZipFile(zip_path) as zf:  # as Explorer's 「すべて展開」 does
            zf.extractall(self.drive / "ツール")
        (self.top,) = (self.drive / "ツール").iterdir()
        self.cmd = "C:\\ツール\\" + self.top.name + "\\xlsx-tool.cmd"
        self.home = self.drive / "調査"
        self.home.mkdir()

    def check(self, ok: bool, what: str, detail: str = "") -> None:
        print(f"  {'ok ' if ok else 'FAILED'} {what}", flush=True)
        if not ok:
            print(detail, flush=True)
            self.failures.append(what)

    def tool(self, *args: str, expect: int = 0) -> str:
        done = wine_run(["cmd", "/c", self.cmd, *args], self.prefix, cwd=self.home, **JAPANESE)
        self.check(done.returncode == expect, f"xlsx-tool.cmd {' '.join(args)} (exit {done.returncode})",
                   done.stdout + done.stderr)
        return done.stdout

    def everything_imports(self) -> None:
        """Every package in the bundle's site-packages imports on Windows (compiled ones too)."""
        site = self.top / "python" / "Lib" / "site-packages"
        names = sorted(p.name for p in site.iterdir() if p.is_dir() and not p.name.endswith(".dist-info")
                       and (p / "__init__.py").is_file())
        python = "C:\\ツール\\" + self.top.name + "\\python\\python.exe"
        done = wine_run([python, "-c", f"import importlib; [importlib.import_module(n) for n in {names!r}]"],
                        self.prefix, cwd=self.home, **JAPANESE)
        self.check(done.returncode == 0, "every package in the bundle imports: " + ", ".join(names), done.stderr)

    def no_other_python(self) -> None:
        found = [p for p in self.drive.rglob("python*.exe") if "ツール" not in p.parts]
        bare = wine_run(["cmd", "/c", "python", "-V"], self.prefix, cwd=self.home, **JAPANESE)  # Wine's `where` is a stub
        self.check(not found and bare.returncode != 0, "no other Python in the prefix",
                   str(found) + bare.stdout + bare.stderr)


def fill_definition(folder: Path) -> None:
    """What the section does in Excel and Notepad after init: the example's plan, from Linux."""
    toml = folder / "survey.toml"
    text = toml.read_text(encoding="utf-8")
    for old, new in (("（提出期限を記入）", "令和4年5月13日（金）"), ("ICT推進課（内線を記入）", "ICT推進課（内線 2021）"),
                     ("（返送先のメールアドレスを記入）", "ict-suishin@example.lg.jp")):
        text = text.replace(old, new)
    toml.write_text(text, encoding="utf-8")
    for book, source in (("施策マスタ.xlsx", "施策マスタ.csv"), ("所管課一覧.xlsx", "所管課一覧.csv")):
        wb = openpyxl.load_workbook(folder / book)
        ws = wb.active
        header = [c.value for c in ws[1]]
        ws.delete_rows(2, ws.max_row)  # the template's example row
        with (EXAMPLE / source).open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                ws.append([row.get(h or "", "") or None for h in header])
        wb.save(folder / book)


def fill_forms(folder: Path) -> int:
    """The departments' answers typed into their forms, as the demo does (xlsx_tool.demo)."""
    shutil.copy(EXAMPLE / D.ANSWERS_FILE, folder / D.ANSWERS_FILE)
    loaded, problems = master.load(folder)
    assert loaded is not None, problems
    forms = sorted((folder / "1_配布").glob("*.xlsx"))
    return len(D.fill_all(loaded, forms))


def rating_counts(summary: Path) -> dict[str, int]:
    ws = openpyxl.load_workbook(summary)["評価別集計表"]
    return {row[0]: row[2] for row in ws.iter_rows(values_only=True)
            if row[0] in PUBLISHED and isinstance(row[2], int)}


def report_text(document: Path) -> bool:
    """The report document is a Word file whose text names the plan's results (read from Linux)."""
    if not document.is_file():
        return False
    with zipfile.ZipFile(document) as zf:
        return "施策" in zf.read("word/document.xml").decode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the offline bundle through a whole cycle under Wine.")
    parser.add_argument("--zip", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    start = time.monotonic()
    b = Bundle(args.zip.resolve(), args.work.resolve())
    try:
        b.no_other_python()
        b.everything_imports()
        out = b.tool("--help")
        b.check("使い方:" in out and "collect" in out, "--help is in Japanese", out)
        b.tool("demo", "例")
        b.check(rating_counts(b.home / "例" / "3_集計" / "集計結果.xlsx") == PUBLISHED, "demo: the published counts")
        b.check(report_text(b.home / "例" / "3_集計" / "実績報告書.docx"), "demo: 実績報告書.docx (python-docx, lxml)")
        year = "令和7年度調査"
        b.tool("init", year, "--template", "2025")
        fill_definition(b.home / year)
        b.tool("check", year)
        b.tool("generate", year)
        filled = fill_forms(b.home / year)
        b.check(filled == 9, f"{filled} forms filled from Linux")
        b.tool("collect", year)
        b.tool("summarize", year)
        b.check(rating_counts(b.home / year / "3_集計" / "集計結果.xlsx") == PUBLISHED,
                "init → generate → collect → summarize: the published counts")
    finally:
        stop_wineserver(b.prefix)
    print(f"== offline bundle: {'ok' if not b.failures else 'FAILED: ' + ', '.join(b.failures)}"
          f" ({time.monotonic() - start:.0f} s)", flush=True)
    return 1 if b.failures else 0


if __name__ == "__main__":
    sys.exit(main())
