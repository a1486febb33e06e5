"""Where collect's wall time goes, phase by phase, on a survey kept by bench_scale.py --keep.

    python benchmarks/collect_phases.py /tmp/survey            # 2 workers (the default)
    python benchmarks/collect_phases.py /tmp/survey --runs 3    # repeat, to see the spread

The survey is copied to a temporary folder and its ledger emptied of earlier collects (the
distributed forms stay recorded), so every run reads every file. Printed per run: loading the
definition and master, reading and checking the files in the pool (until the last result),
and what the main process does after (decide, the ledger, the corrections, the status
workbook). Then, in this one process on the first 400 files: the reader, the validation and
pickling a result, per file. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path


def fresh_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("3_集計"))
    with sqlite3.connect(dst / "回収台帳.sqlite3") as conn:
        conn.execute("DELETE FROM received")
        conn.execute("DELETE FROM snapshot")
    return dst


def timed(spent: dict[str, float], owner: object, name: str) -> None:
    """Wrap owner.name so that its time adds up under spent[name]."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def one_run(folder: Path, workers: int | None, spent: dict[str, float]) -> None:
    from xlsx_tool import pipeline
    from xlsx_tool.collect import run as collect_run
    from xlsx_tool.intake.sandbox import Pool

    spent.clear()
    marks: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        if done == total:
            marks["last"] = time.perf_counter()

    start = time.perf_counter()
    with Pool(workers) as pool:
        loaded = pipeline.load_checked(folder, pool)
        loaded_at = time.perf_counter()
        collect_run.collect(loaded, pool, progress)
        end = time.perf_counter()
    after = {k: round(v, 2) for k, v in spent.items()}
    print(f"load {loaded_at - start:5.2f} s   read and check {marks['last'] - loaded_at:5.2f} s   "
          f"after {end - marks['last']:4.2f} s {after}   total {end - start:5.2f} s")


def per_file(folder: Path, count: int) -> None:
    from xlsx_tool import pipeline
    from xlsx_tool.collect.validate import check_submission
    from xlsx_tool.define import survey as S
    from xlsx_tool.intake.reader import read_workbook
    from xlsx_tool.intake.sandbox import Pool
    from xlsx_tool.ledger import open_ledger

    with Pool(1) as pool:
        loaded = pipeline.load_checked(folder, pool)
    with open_ledger(loaded.survey.path(S.LEDGER_FILE)) as ledger:
        versions = {d: ledger.versions(d) for d in loaded.asked}
    files = sorted(loaded.survey.path(S.RETURNS_DIR).iterdir())[:count]
    check_submission(loaded, read_workbook(files[0], (loaded.survey.input_sheet,)), "f", "", versions)
    t0 = time.perf_counter()
    raws = [read_workbook(p, (loaded.survey.input_sheet,)) for p in files]
    t1 = time.perf_counter()
    subs = [check_submission(loaded, raw, p.name, "", versions) for raw, p in zip(raws, files, strict=True)]
    t2 = time.perf_counter()
    blobs = [pickle.dumps(s) for s in subs]
    t3 = time.perf_counter()
    n = len(files)
    print(f"per file, one process, {n} files: reader {(t1 - t0) / n * 1e3:.2f} ms, validation "
          f"{(t2 - t1) / n * 1e3:.2f} ms, pickling the result {(t3 - t2) / n * 1e3:.3f} ms "
          f"({sum(map(len, blobs)) / n / 1024:.1f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("survey", type=Path, help="a survey folder kept by bench_scale.py --keep")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    from xlsx_tool.collect import corrections, status_book
    from xlsx_tool.collect import run as collect_run
    from xlsx_tool.ledger import Ledger

    spent: dict[str, float] = {}
    for owner, name in ((collect_run, "decide"), (Ledger, "record_collect"),
                        (corrections, "write_corrections"), (status_book, "status_workbook")):
        timed(spent, owner, name)
    with tempfile.TemporaryDirectory(prefix="collect-phases-") as tmp:
        for i in range(args.runs):
            one_run(fresh_copy(args.survey, Path(tmp) / f"run{i}"), args.workers, spent)
        per_file(Path(tmp) / "run0", 400)


if __name__ == "__main__":
    main()
