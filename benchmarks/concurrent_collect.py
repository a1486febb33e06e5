"""Two `collect` runs started at once on one survey folder, as two PCs on a shared folder would.

    python benchmarks/concurrent_collect.py [--trials 10] [--python PYTHON] [--folder DIR]

Each trial copies the demo survey (its nine returned forms in 2_回収, no ledger yet, or the ledger
of the previous trial with --keep-ledger), starts two `python -m xlsx_tool collect --json` at the
same moment, and then checks what they left: the exit codes (0, or 2 with the sentence that another
program is using the ledger), SQLite's integrity check, one row per received file, a third collect
that gives what a single collect gives. Prints one line per trial and a summary. `--python` runs
another interpreter (a Windows python.exe under Wine: pass `wine` and the .exe as two words).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LEDGER = "回収台帳.sqlite3"


def run_collect(python: list[str], folder: Path) -> subprocess.Popen:
    return subprocess.Popen([*python, "-m", "xlsx_tool", "collect", "--json", str(folder)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def departments(out: bytes) -> list[tuple[str, str]]:
    return sorted((d["department"], d["status"]) for d in json.loads(out.decode("utf-8"))["departments"])


def trial(python: list[str], base: Path, work: Path, keep_ledger: bool) -> dict:
    folder = work / "survey"
    if folder.exists() and keep_ledger:
        (folder / "3_集計").exists() and shutil.rmtree(folder / "3_集計")
    else:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(base, folder)
    start = time.monotonic()
    runs = [run_collect(python, folder), run_collect(python, folder)]
    # read the output while waiting: a Windows pipe holds only a few KB of the JSON
    outcomes = [(*run.communicate(timeout=600), run.returncode) for run in runs]
    outcomes = [(code, out, err) for out, err, code in outcomes]
    wall = time.monotonic() - start
    codes = [code for code, _o, _e in outcomes]
    locked = sum("使用中" in err.decode("utf-8", "replace") for _c, _o, err in outcomes)
    tracebacks = sum(b"Traceback" in err for _c, _o, err in outcomes)
    with sqlite3.connect(folder / LEDGER) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        received = db.execute("SELECT COUNT(*) FROM received").fetchone()[0]
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.close()
    third = run_collect(python, folder)
    out, _err = third.communicate(timeout=600)
    single = run_collect(python, base)  # the same folder collected alone (its ledger is made anew)
    alone, _ = single.communicate(timeout=600)
    shutil.rmtree(base / "3_集計", ignore_errors=True)
    (base / LEDGER).unlink(missing_ok=True)
    same = third.returncode == single.returncode and departments(out) == departments(alone)
    return {"codes": codes, "locked": locked, "tracebacks": tracebacks, "integrity": integrity,
            "received": received, "journal": journal, "same_as_alone": same, "wall": round(wall, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--python", default=sys.executable, help="the interpreter, e.g. 'wine C:/py/python.exe'")
    parser.add_argument("--folder", type=Path, help="work here instead of a temporary folder")
    parser.add_argument("--keep-ledger", action="store_true", help="every trial on the ledger the last one left")
    args = parser.parse_args()
    python = shlex.split(args.python)
    work = args.folder or Path(tempfile.mkdtemp(prefix="concurrent-collect-"))
    work.mkdir(parents=True, exist_ok=True)
    base = work / "base"
    if not base.exists():
        made = subprocess.run([*python, "-m", "xlsx_tool", "demo", str(base)], stdin=subprocess.DEVNULL,
                              capture_output=True, check=False)
        if made.returncode:
            print(made.stderr.decode("utf-8", "replace"))
            return 1
        shutil.rmtree(base / "3_集計")
        (base / "3_集計").mkdir()
        (base / LEDGER).unlink()
    results = []
    for number in range(1, args.trials + 1):
        result = trial(python, base, work, args.keep_ledger)
        results.append(result)
        print(number, result, flush=True)
    both = sum(r["codes"] == [0, 0] for r in results)
    one_locked = sum(sorted(r["codes"]) == [0, 2] and r["locked"] == 1 for r in results)
    whole = sum(r["integrity"] == "ok" and r["received"] == 9 and r["same_as_alone"] for r in results)
    print(f"{len(results)} trials: both completed {both}, one stopped on the lock {one_locked}, "
          f"other {len(results) - both - one_locked}; ledger whole and a later collect as a single one: "
          f"{whole}; tracebacks: {sum(r['tracebacks'] for r in results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
