"""Speed of generate and collect against plain baselines, in the same run.

    python benchmarks/bench_cycle.py --departments 200 --measures 50

Builds a synthetic survey (D departments x M measures each), then times:
  generate   our forms (validations, protection, identification)  vs  a plain xlsxwriter
             workbook of the same cells, written serially
  fill       the departments' answers typed in (openpyxl; not part of the tool's cost)
  collect    pre-flight + read in worker processes + validation + ledger + outputs  vs
             openpyxl read_only reading the same files serially (no checks at all)
and prints figures, ratios and the parent's peak memory. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import openpyxl
import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlsx_tool.collect.run import collect  # noqa: E402
from xlsx_tool.define.master import load  # noqa: E402
from xlsx_tool.demo import fill_form  # noqa: E402
from xlsx_tool.forms.writer import generate  # noqa: E402


def build(folder: Path, departments: int, measures: int) -> None:
    text = (ROOT / "templates" / "2025.toml").read_text(encoding="utf-8")
    text = text.replace('master = "施策マスタ.xlsx"', 'master = "施策マスタ.csv"')
    (folder / "survey.toml").write_text(text, encoding="utf-8")
    groups = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"]
    with (folder / "施策マスタ.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["施策番号", "施策名", "基本方針", "所管課", "指標", "単位", "目標値"])
        n = 0
        for d in range(departments):
            for _ in range(measures):
                n += 1
                w.writerow([n, f"施策{n}の推進と区民サービスの向上", groups[n % 4], f"部署{d:04d}課",
                            "実施件数", "件", 100])


def plain_write(path: Path, rows: int, cols: int) -> None:
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True})
    ws = wb.add_worksheet()
    for r in range(rows):
        for c in range(cols):
            ws.write_string(r, c, f"値{r}-{c}")
    wb.close()


def plain_read(paths: list[Path]) -> int:
    cells = 0
    for p in paths:
        wb = openpyxl.load_workbook(p, read_only=True)
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells += len(row)
        wb.close()
    return cells


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--departments", type=int, default=200)
    ap.add_argument("--measures", type=int, default=50)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="xlsx-tool-bench-"))
    try:
        folder = tmp / "survey"
        folder.mkdir()
        build(folder, args.departments, args.measures)
        loaded, _ = load(folder)
        t0 = time.perf_counter()
        forms = generate(loaded)
        t_generate = time.perf_counter() - t0
        base = tmp / "plain"
        base.mkdir()
        t0 = time.perf_counter()
        for i in range(len(forms)):
            plain_write(base / f"{i}.xlsx", args.measures + 4, 12)
        t_plain_write = time.perf_counter() - t0
        t0 = time.perf_counter()
        for form in forms:
            answers = {m.number: {"評価": "達成", "実績値": 120, "取組実績": "計画どおり実施した。"}
                       for m in loaded.master.of(form.stem.rsplit("_", 1)[-1])}
            fill_form(form, folder / "2_回収" / form.name, answers)
        t_fill = time.perf_counter() - t0
        returned = sorted((folder / "2_回収").iterdir())
        t0 = time.perf_counter()
        result = collect(loaded)
        t_collect = time.perf_counter() - t0
        t0 = time.perf_counter()
        plain_read(returned)
        t_plain_read = time.perf_counter() - t0
        n = len(forms)
        ok = result.count("submitted")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out = io.StringIO()
        print(f"departments {n}, measures per department {args.measures}, submitted {ok}/{n}", file=out)
        print(f"generate  {t_generate:7.2f} s  ({t_generate / n * 1000:6.1f} ms/form)   "
              f"plain xlsxwriter {t_plain_write:7.2f} s   ratio {t_generate / t_plain_write:5.2f}", file=out)
        print(f"collect   {t_collect:7.2f} s  ({t_collect / n * 1000:6.1f} ms/file)   "
              f"plain openpyxl read_only {t_plain_read:7.2f} s   ratio {t_collect / t_plain_read:5.2f}", file=out)
        print(f"fill (test harness, openpyxl) {t_fill:7.2f} s", file=out)
        print(f"parent peak RSS {rss:.0f} MB", file=out)
        print(out.getvalue(), end="")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
