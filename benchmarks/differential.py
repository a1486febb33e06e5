"""The tool's reader against python-calamine, cell by cell, over folders of real workbooks.

    python benchmarks/differential.py --corpus DIR [DIR ...]          # a table, one line per file
    python benchmarks/differential.py --corpus DIR --show 5            # and up to 5 differing cells each
    python benchmarks/differential.py --corpus DIR --json out.json     # every difference, for a diff

Every .xlsx and .xlsm under the folders (recursively) is read by `xlsx_tool.intake.reader`
(every sheet) and by python-calamine, each file in a spawned worker process (calamine has
aborted a whole process on a hostile file, and a Rust panic is a BaseException). Printed per
file: cells compared (both readers give something there), cells whose value differs, cells
whose kind differs (text, number, date, boolean), and totals. Nothing is asserted: the point
is to read the differences; benchmarks/README.md says which ones are Excel's behaviour and
not a fault of either reader.

How two cells are compared:
- A cell counts when either reader gives a value there; an empty string is no value
  (calamine returns "" for an empty cell, an error value and an empty string alike).
- An error value (#N/A, #REF!) is read by the tool only (calamine gives ""): counted apart.
- A formula never calculated (no cached value) holds nothing for either reader.
- A date is compared as Excel stores it, a serial number of days (calamine's datetime is
  turned back into one with the workbook's own calendar, 1900 or 1904); that the tool saw a
  number where calamine saw a date (or the reverse) is a difference of kind, not of value.
- An ISO date cell (t="d") is compared as the instant it names.
- A cell the tool leaves out because a merge covers it (Excel shows a merge's first cell only)
  is found by reading the file again with the merges ignored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

EPOCH_1900 = dt.datetime(1899, 12, 30)
EPOCH_1904 = dt.datetime(1904, 1, 1)
TIMEOUT_S = 120


@dataclass
class FileResult:
    file: str
    ours_failure: str = ""  # a problem code when the tool's reader refused the file
    theirs_failure: str = ""  # calamine's exception, when it could not read the file
    sheets: int = 0
    compared: int = 0  # cells where both readers give a value
    value_differs: int = 0
    kind_differs: int = 0
    only_ours: int = 0  # the tool gives a value, calamine nothing (errors excluded)
    only_theirs: int = 0
    errors: int = 0  # error values: only the tool reads them
    classes: dict[str, int] = field(default_factory=dict)  # differing cells by class (CLASSES)
    sheets_only_one_side: list[str] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)  # differing cells, as (sheet, cell, ours, theirs)
    seconds: float = 0.0


def _letters(column: int) -> str:
    out = ""
    while column:
        column, rest = divmod(column - 1, 26)
        out = chr(65 + rest) + out
    return out


def _ours(cell, date1904: bool) -> tuple[str, object] | None:
    """(kind, comparable value) of one of the tool's cells; None for no value."""
    if cell.value is None:
        return None
    if cell.kind == "e":
        return ("error", cell.value)
    if cell.kind == "s":
        return None if cell.value == "" else ("text", cell.value)
    if cell.kind == "b":
        return ("bool", bool(cell.value))
    if cell.kind == "d":
        text = str(cell.value).strip()
        try:
            when = dt.datetime.fromisoformat(text.removesuffix("Z"))
        except ValueError:
            try:  # a time of day alone (T10:10:10 or 10:10:10)
                return ("date", _theirs(dt.time.fromisoformat(text.removeprefix("T")), date1904)[1])  # type: ignore[index]
            except ValueError:
                return ("text", cell.value)
        return ("date", _serial(when, date1904))
    return ("date" if cell.style == "date" else "number", float(cell.value))


def _serial(when: dt.datetime, date1904: bool) -> float:
    """Excel's serial number of a moment. In the 1900 calendar Excel counts a 29 February 1900
    that never was (serial 60), so the days before 1 March 1900 are one fewer."""
    delta = when - (EPOCH_1904 if date1904 else EPOCH_1900)
    serial = delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return serial - 1 if not date1904 and serial < 61 else serial


def _theirs(value: object, date1904: bool) -> tuple[str, object] | None:
    if value == "" or value is None:
        return None
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", float(value))
    if isinstance(value, dt.datetime):
        return ("date", _serial(value, date1904))
    if isinstance(value, dt.date):
        return ("date", _serial(dt.datetime(value.year, value.month, value.day), date1904))
    if isinstance(value, dt.time):
        return ("date", (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400)
    if isinstance(value, dt.timedelta):
        return ("date", value.total_seconds() / 86400)
    return ("text", str(value))


# Differences that are not faults of the tool's reader, each shown in benchmarks/README.md with
# what Excel does; every other difference is "unexplained".
CLASSES = {
    "negative-date": "a negative serial with a date format: Excel shows ####, calamine a time of day",
    "escape": "_xHHHH_ beyond _x00HH_: Excel decodes every such escape, calamine only the first 256",
    "iso-zone": "an ISO date cell (t=\"d\") with a time zone: calamine leaves it as text",
    "merge-covered": "a cell a merge covers: Excel shows the merge's first cell only, calamine every cell",
    "unexplained": "none of the above",
}
_ISO_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)$")


def explain(a: tuple[str, object] | None, b: tuple[str, object] | None) -> str:
    """The class of one differing cell."""
    from xlsx_tool.intake.reader import decode_escapes

    if a and b and a[0] == b[0] == "date" and float(a[1]) < 0 <= float(b[1]) < 1:  # type: ignore[arg-type]
        return "negative-date"
    if a and b and a[0] == b[0] == "text" and decode_escapes(str(b[1])) == a[1] \
            and re.search(r"_x(?!00)[0-9A-Fa-f]{4}_", str(b[1])):
        return "escape"
    if a and b and a[0] == "date" and b[0] == "text" and _ISO_ZONE.match(str(b[1])):
        return "iso-zone"
    return "unexplained"


def _same_value(a: tuple[str, object], b: tuple[str, object]) -> bool:
    (ka, va), (kb, vb) = a, b
    if {ka, kb} <= {"number", "date"}:
        if ka == "date" or kb == "date":  # calamine rounds times to the millisecond
            return abs(float(va) - float(vb)) < 1e-6  # type: ignore[arg-type]
        return va == vb
    return va == vb


def compare_file(path_text: str, show: int) -> FileResult:
    """Read one file with both readers (runs in a worker process)."""
    from python_calamine import CalamineWorkbook

    from xlsx_tool.intake.reader import read_workbook

    path = Path(path_text)
    result = FileResult(file=path_text)
    start = time.perf_counter()
    names = tuple(n for n, _state in read_workbook(path).sheets)
    ours = read_workbook(path, names)
    if ours.failure:
        result.ours_failure = f"{ours.failure} {ours.detail}".strip()
    try:
        book = CalamineWorkbook.from_path(path_text)
        their_names = list(book.sheet_names)
    except BaseException as exc:  # noqa: BLE001 - calamine raises PanicException (a BaseException)
        result.theirs_failure = f"{type(exc).__name__}: {str(exc)[:120]}"
        result.seconds = time.perf_counter() - start
        return result
    if ours.failure:
        result.seconds = time.perf_counter() - start
        return result
    for name in sorted(set(their_names) ^ set(ours.cells)):
        # a chart sheet, or a sheet without a part, is a sheet only one reader lists
        result.sheets_only_one_side.append(name)
    covered: dict[str, set[tuple[int, int]]] = {}  # cells the reader left out under a merge
    if any(b"mergeCell" in z for z in _sheet_parts(path)):
        from xlsx_tool.intake import reader as R

        keep = R._drop_covered
        R._drop_covered = lambda cells, rest: None  # type: ignore[assignment]
        try:
            everything = read_workbook(path, names)
        finally:
            R._drop_covered = keep
        covered = {n: set(everything.cells.get(n, {})) - set(c) for n, c in ours.cells.items()}
    for name in their_names:
        if name not in ours.cells:
            continue
        result.sheets += 1
        try:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
        except BaseException as exc:  # noqa: BLE001
            result.theirs_failure = f"{name}: {type(exc).__name__}: {str(exc)[:120]}"
            continue
        theirs: dict[tuple[int, int], tuple[str, object]] = {}
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row, 1):
                got = _theirs(value, ours.date1904)
                if got is not None:
                    theirs[(r, c)] = got
        mine: dict[tuple[int, int], tuple[str, object]] = {}
        for key, cell in ours.cells[name].items():
            got = _ours(cell, ours.date1904)
            if got is not None:
                mine[key] = got
        for key in sorted(set(mine) | set(theirs)):
            a, b = mine.get(key), theirs.get(key)
            if a is not None and a[0] == "error":
                result.errors += 1
                continue
            if a is None or b is None:
                if a is None:
                    result.only_theirs += 1
                else:
                    result.only_ours += 1
                differs = True
            else:
                result.compared += 1
                value_differs = not _same_value(a, b)
                kind_differs = a[0] != b[0]
                result.value_differs += value_differs
                result.kind_differs += kind_differs
                differs = value_differs or kind_differs
            if differs:
                why = "merge-covered" if a is None and key in covered.get(name, ()) else explain(a, b)
                result.classes[why] = result.classes.get(why, 0) + 1
            if differs and len(result.samples) < show:
                result.samples.append({"sheet": name, "cell": f"{_letters(key[1])}{key[0]}",
                                       "ours": a, "calamine": b})
    result.seconds = time.perf_counter() - start
    return result


def _sheet_parts(path: Path) -> list[bytes]:
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            return [z.read(i) for i in z.infolist() if "sheet" in i.filename.lower()
                    and i.filename.lower().endswith(".xml") and i.file_size < 64 * 2**20]
    except Exception:  # noqa: BLE001 - a broken file: the readers say so
        return []


def files_under(folders: list[Path]) -> list[Path]:
    found = []
    for folder in folders:
        if folder.is_file():
            found.append(folder)
            continue
        found += [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".xlsx", ".xlsm")]
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", nargs="+", type=Path, required=True, help="folders (or files) to read")
    parser.add_argument("--show", type=int, default=0, help="differing cells to print per file")
    parser.add_argument("--json", type=Path, help="write every file's result here")
    parser.add_argument("--all", action="store_true", help="list files without differences too")
    args = parser.parse_args(argv)
    files = files_under(args.corpus)
    if not files:
        print("no .xlsx/.xlsm files under", *args.corpus)
        return 2
    results: list[FileResult] = []
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    # One file per worker life: a crash or a hang costs that file only.
    with context.Pool(2, maxtasksperchild=20) as pool:
        pending = [(f, pool.apply_async(compare_file, (str(f), max(args.show, 50 if args.json else 0))))
                   for f in files]
        for path, job in pending:
            try:
                results.append(job.get(timeout=TIMEOUT_S))
            except multiprocessing.TimeoutError:
                results.append(FileResult(file=str(path), theirs_failure="timeout or crash of the worker"))
    common = _common_prefix(files)
    width = max(len(_short(r.file, common)) for r in results)
    print(f"{'file':<{width}}  compared  value≠  kind≠  only tool  only calamine  errors  unexplained  note")
    totals = FileResult(file="total")
    shown = 0
    for r in results:
        for name in ("compared", "value_differs", "kind_differs", "only_ours", "only_theirs", "errors"):
            setattr(totals, name, getattr(totals, name) + getattr(r, name))
        for why, n in r.classes.items():
            totals.classes[why] = totals.classes.get(why, 0) + n
        differs = r.value_differs or r.kind_differs or r.only_ours or r.only_theirs
        note = "; ".join(x for x in (f"tool: {r.ours_failure}" if r.ours_failure else "",
                                     f"calamine: {r.theirs_failure}" if r.theirs_failure else "",
                                     "sheets read by one side: " + ", ".join(r.sheets_only_one_side)
                                     if r.sheets_only_one_side else "",
                                     ", ".join(f"{w} {n}" for w, n in sorted(r.classes.items())
                                               if w != "unexplained")) if x)
        if not (args.all or differs or r.ours_failure or r.theirs_failure):
            continue
        shown += 1
        print(f"{_short(r.file, common):<{width}}  {r.compared:>8}  {r.value_differs:>6}  {r.kind_differs:>5}"
              f"  {r.only_ours:>9}  {r.only_theirs:>13}  {r.errors:>6}  {r.classes.get('unexplained', 0):>11}  {note}")
        for sample in r.samples[:args.show]:
            print(f"    {sample['sheet']}!{sample['cell']}: tool {sample['ours']!r}  calamine {sample['calamine']!r}")
    both = [r for r in results if not r.ours_failure and not r.theirs_failure]
    differing = [r for r in both if r.value_differs or r.kind_differs or r.only_ours or r.only_theirs]
    print(f"\n{len(files)} files ({len(both)} read by both, {sum(bool(r.ours_failure) for r in results)} refused "
          f"by the tool, {sum(bool(r.theirs_failure) for r in results)} not read by calamine); "
          f"{len(differing)} files with a difference; {shown} listed above")
    print(f"cells compared {totals.compared:,}; value differs {totals.value_differs:,}; kind differs "
          f"{totals.kind_differs:,}; only the tool {totals.only_ours:,}; only calamine {totals.only_theirs:,}; "
          f"error values (the tool only) {totals.errors:,}; {time.perf_counter() - started:.1f} s")
    print("differing cells by class:")
    for why, text in CLASSES.items():
        print(f"  {why:<14} {totals.classes.get(why, 0):>7,}  {text}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=1,
                                        default=str), encoding="utf-8")
    return 0


def _common_prefix(files: list[Path]) -> str:
    texts = [str(f) for f in files]
    prefix = texts[0] if len(texts) == 1 else str(Path(texts[0]).parent)
    for t in texts:
        while not t.startswith(prefix):
            prefix = prefix[:-1]
    return prefix[:prefix.rfind("/") + 1] if "/" in prefix else ""


def _short(file: str, common: str) -> str:
    return file[len(common):]


if __name__ == "__main__":
    sys.exit(main())
