"""Where a generated form's time goes: the tool's form against the bare xlsxwriter form.

    python benchmarks/generate_parts.py SURVEY [--forms 200]

SURVEY is a folder kept by `bench_scale.py --keep` (its forms in 1_配布/ give the bare form's
shape). Prints CPU ms per form (one process, `time.process_time`) for the bare form, the tool's
form, and the tool's form with one part left out at a time, and the time spent in xlsxwriter's
close() (assembling and zipping the XML) for each. Nothing is written into SURVEY.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_scale as B  # noqa: E402
import xlsxwriter.workbook as XW  # noqa: E402

from xlsx_tool.forms import writer as W  # noqa: E402
from xlsx_tool.pipeline import load_checked  # noqa: E402

_closing = [0.0]
_close = XW.Workbook.close


def _timed_close(self: XW.Workbook) -> None:
    started = time.process_time()
    try:
        _close(self)
    finally:
        _closing[0] += time.process_time() - started


def per_form(label: str, write: Callable[[str], object], departments: list[str]) -> None:
    write(departments[0])
    _closing[0] = 0.0
    started = time.process_time()
    for d in departments:
        write(d)
    total = (time.process_time() - started) / len(departments) * 1000
    print(f"{label:40s} {total:6.2f} ms/form   close() {_closing[0] / len(departments) * 1000:6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("survey", type=Path)
    ap.add_argument("--forms", type=int, default=200)
    args = ap.parse_args()
    loaded = load_checked(args.survey)
    departments = list(loaded.asked)[: args.forms]
    shape = B.inspect_form(sorted((args.survey / B.FORMS).glob("*.xlsx"))[0])
    rows = {d: [(m.number, m.group, m.name, f"{m.indicator}\n目標値：{m.target}{m.unit}")
                for m in loaded.measures_of(d)] for d in departments}
    XW.Workbook.close = _timed_close
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "bare.xlsx"
        per_form("bare xlsxwriter form", lambda d: B.bare_form((out, shape, rows[d])), departments)
    per_form("tool's form", lambda d: W.form_bytes(loaded, d), departments)
    parts = [("identification", "identification", lambda self, version: None),
             ("instructions", "instructions", lambda self: None),
             ("validations and conditional formats", "_validations", lambda self: None)]
    for label, name, nothing in parts:
        kept = getattr(W._FormWriter, name)
        setattr(W._FormWriter, name, nothing)
        try:
            per_form(f"tool's form without {label}", lambda d: W.form_bytes(loaded, d), departments)
        finally:
            setattr(W._FormWriter, name, kept)
    kept_fit = W.fit_row
    W.fit_row = lambda *a, **k: None
    try:
        per_form("tool's form without row heights", lambda d: W.form_bytes(loaded, d), departments)
    finally:
        W.fit_row = kept_fit


if __name__ == "__main__":
    main()
