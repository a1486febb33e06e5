#!/usr/bin/python3
"""Fill cells of an .xlsx with LibreOffice Calc (through UNO), inspect it, save it.

Standalone: stdlib + ``uno`` only, no project imports. ``uno`` lives in the
system Python (Debian: /usr/bin/python3 with python3-uno), not in the project's
venv, so run this as a subprocess:

    /usr/bin/python3 tests/support/lo_fill.py IN.xlsx OUT.xlsx SPEC.json

SPEC.json (UTF-8)::

    {"fill": {"調査票": {"H4": "達成", "I4": 12, "J4": "text"}},
     "inspect": ["調査票"],
     "all_validations": false,   # optional: also report non-LIST validations
     "allow_locked": false}      # optional: allow filling locked cells

Cells are set the way a person typing would end up with them: str -> setString
(stored as text, even "12" or "=A1"), int/float -> setValue, null -> cleared.
Every value is read back; if LibreOffice did not take it, that is an error.

Found by testing (LibreOffice 7.4): the UNO API writes straight through sheet
protection and data validation. So this script itself refuses (error) to fill a
locked cell on a protected sheet, as the UI would, unless "allow_locked" is
set; sheets are never unprotected. Values that a LIST validation would not
accept are only reported, under "list_problems".

Prints exactly one JSON object on stdout::

    {"ok": true,
     "sheets": [{"name": "調査票", "visible": true}, ...],
     "protected": {"調査票": true},
     "validations": {"調査票": [{"cell": "H4", "type": "LIST", "formula1": "...",
                                 "show_list": 1, "error_style": "STOP",
                                 "locked": false, ...}]},
     "validation_ranges": {"調査票": [{"range": "H4:H53", "type": "LIST", ...,
                                       "truncated": false}]},
     "used_range": {"調査票": "A1:K53"},
     "filled": {"調査票": {"H4": "達成", "I4": 12.0}},
     "list_problems": [],
     "seconds": 3.2}

or ``{"ok": false, "error": "..."}`` with exit code 1.

``show_list`` is com.sun.star.sheet.TableValidationVisibility:
0 = HIDDEN, 1 = UNSORTED, 2 = SORTEDASCENDING. ``formula1`` is in
LibreOffice syntax: a literal list reads '"a";"b"', a range '$Lists.$A$1:$A$3'.
``visible`` is False for both Excel "hidden" and "veryHidden" sheets.

The soffice executable is taken from $SOFFICE, else ``soffice``/``libreoffice``
on PATH. Each run starts its own headless soffice with a fresh temporary user
profile and a unique pipe name, and always ends it and removes the profile.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

CONNECT_TIMEOUT = 60.0
LOG_TAIL = 2000
# A validation range with more cells than this (e.g. a whole column) is listed
# per cell only down to the end of the used area.
MAX_EXPAND_CELLS = 20000


class FillError(Exception):
    pass


def col_letters(col):
    """0-based column index -> 'A', 'B', ..., 'AA'."""
    s = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        s = chr(65 + rem) + s
    return s


def find_soffice():
    env = os.environ.get("SOFFICE")
    if env:
        return env
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    raise FillError("soffice/libreoffice not found (set $SOFFICE or install libreoffice-calc)")


def prop(name, value):
    import uno  # noqa: F401  (makes com.sun.star importable)
    from com.sun.star.beans import PropertyValue

    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def enum_name(v):
    # UNO enums arrive as uno.Enum with .value holding the member name.
    return getattr(v, "value", str(v))


class Office:
    """A private headless soffice reached over a named pipe."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="lo_fill_profile_")
        self.pipe = "lo_fill_" + uuid.uuid4().hex
        self.log_path = os.path.join(self.profile, "soffice.log")
        self.proc = None
        self.desktop = None
        self._log = None

    def start(self):
        import uno
        from com.sun.star.connection import NoConnectException

        soffice = find_soffice()
        cmd = [
            soffice,
            "-env:UserInstallation=" + Path(self.profile, "user").as_uri(),
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"--accept=pipe,name={self.pipe};urp;",
        ]
        self._log = open(self.log_path, "wb")
        # Own session/process group so the whole soffice tree (shell wrapper,
        # oosplash, soffice.bin) can be ended by our own pid.
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local
        )
        url = f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + CONNECT_TIMEOUT
        last = None
        while True:
            try:
                ctx = resolver.resolve(url)
                break
            except NoConnectException as e:
                last = e
            rc = self.proc.poll()
            if rc is not None:
                raise FillError(
                    f"soffice exited with code {rc} before accepting connections; log:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise FillError(
                    f"could not connect to soffice within {CONNECT_TIMEOUT:.0f}s: {last}; "
                    f"log:\n{self.log_tail()}"
                )
            time.sleep(0.25)
        smgr = ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
            return data[-LOG_TAIL:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _group_alive(self):
        try:
            os.killpg(self.proc.pid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def stop(self):
        if self.desktop is not None:
            try:
                self.desktop.terminate()
            except Exception:
                pass  # the bridge drops while soffice quits; expected
            self.desktop = None
        if self.proc is not None:
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            # End whatever is left of our own process group (our pid = pgid).
            for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                self.proc.poll()  # reap the wrapper so it does not count
                if not self._group_alive():
                    break
                try:
                    os.killpg(self.proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    break
                end = time.monotonic() + grace
                while time.monotonic() < end:
                    self.proc.poll()
                    if not self._group_alive():
                        break
                    time.sleep(0.1)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self._log is not None:
            self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


def get_sheet(doc, name):
    sheets = doc.getSheets()
    if not sheets.hasByName(name):
        raise FillError(
            "no sheet {!r} (sheets: {})".format(name, ", ".join(sheets.getElementNames()))
        )
    return sheets.getByName(name)


def validation_info(v):
    return {
        "type": enum_name(v.Type),
        "formula1": v.getFormula1(),
        "show_list": int(v.ShowList),
        "error_style": enum_name(v.ErrorAlertStyle),
        "show_error_message": bool(v.ShowErrorMessage),
        "error_title": v.ErrorTitle,
        "error_message": v.ErrorMessage,
        "show_input_message": bool(v.ShowInputMessage),
        "input_title": v.InputTitle,
        "input_message": v.InputMessage,
        "ignore_blank": bool(v.IgnoreBlankCells),
    }


def split_list_literal(formula):
    """'"a";"b";"c"' -> ['a', 'b', 'c']; None if it is not a literal list."""
    items, i, n = [], 0, len(formula)
    while i < n:
        if formula[i] != '"':
            return None
        i += 1
        buf = []
        while True:
            if i >= n:
                return None
            if formula[i] == '"':
                if i + 1 < n and formula[i + 1] == '"':
                    buf.append('"')
                    i += 2
                    continue
                i += 1
                break
            buf.append(formula[i])
            i += 1
        items.append("".join(buf))
        if i < n:
            if formula[i] != ";":
                return None
            i += 1
    return items


def list_items(doc, formula):
    """Allowed entries of a LIST validation, or None when they cannot be resolved."""
    items = split_list_literal(formula)
    if items is not None:
        return items
    rng = None
    f = formula.lstrip("=")
    try:
        if "." in f:  # $Sheet.$A$1:$A$3 or $'My sheet'.$A$1:$A$3
            sheet_part, _, ref = f.rpartition(".")
            name = sheet_part.lstrip("$")
            if name.startswith("'") and name.endswith("'"):
                name = name[1:-1].replace("''", "'")
            rng = doc.getSheets().getByName(name).getCellRangeByName(ref)
        elif doc.NamedRanges.hasByName(f):
            rng = doc.NamedRanges.getByName(f).getReferredCells()
    except Exception:
        rng = None
    if rng is None:
        return None
    out = []
    for row in rng.getDataArray():
        for v in row:
            if isinstance(v, float):
                out.append(repr(int(v)) if v.is_integer() else repr(v))
            elif v != "":
                out.append(v)
    return out


def fill_cells(doc, fill, allow_locked=False):
    """Set cells like a person typing. Returns (read-back values, list problems)."""
    filled = {}
    problems = []
    for sheet_name, cells in fill.items():
        sheet = get_sheet(doc, sheet_name)
        out = filled.setdefault(sheet_name, {})
        for addr, value in cells.items():
            where = f"{sheet_name}!{addr}"
            try:
                cell = sheet.getCellRangeByName(addr)
            except Exception as e:
                raise FillError(f"{where}: bad cell address: {e}") from e
            # LibreOffice's API writes through sheet protection without
            # complaint, so do the check a person at the keyboard would meet.
            if (
                not allow_locked
                and sheet.isProtected()
                and cell.getPropertyValue("CellProtection").IsLocked
            ):
                raise FillError(
                    f"{where}: cell is locked on a protected sheet; a user could not type {value!r} here"
                )
            try:
                if value is None:
                    cell.setString("")
                    ok = enum_name(cell.getType()) == "EMPTY"
                    got = None
                elif isinstance(value, bool):
                    raise FillError(f"{where}: booleans are not supported ({value!r})")
                elif isinstance(value, str):
                    cell.setString(value)
                    got = cell.getString()
                    ok = got == value
                elif isinstance(value, (int, float)):
                    cell.setValue(float(value))
                    got = cell.getValue()
                    ok = got == float(value) and enum_name(cell.getType()) == "VALUE"
                else:
                    raise FillError(f"{where}: unsupported value type {type(value).__name__}")
            except FillError:
                raise
            except Exception as e:
                raise FillError(f"{where}: LibreOffice refused the value {value!r}: {e}") from e
            if not ok:
                raise FillError(
                    f"{where}: value {value!r} was not taken (cell now {cell.getString()!r}; sheet protected={sheet.isProtected()})"
                )
            out[addr] = got
            # The API bypasses data validation too: report values that a STOP
            # list validation would have refused (not an error by itself).
            v = cell.getPropertyValue("Validation")
            if value is not None and enum_name(v.Type) == "LIST":
                items = list_items(doc, v.getFormula1())
                text = cell.getString()
                if items is None:
                    problems.append(
                        {
                            "cell": where,
                            "value": value,
                            "problem": "list not resolved",
                            "formula1": v.getFormula1(),
                        }
                    )
                elif text not in items:
                    problems.append(
                        {
                            "cell": where,
                            "value": value,
                            "problem": "not in list",
                            "allowed": items,
                            "error_style": enum_name(v.ErrorAlertStyle),
                        }
                    )
    return filled, problems


def range_name(a):
    start = f"{col_letters(a.StartColumn)}{a.StartRow + 1}"
    end = f"{col_letters(a.EndColumn)}{a.EndRow + 1}"
    return start if start == end else start + ":" + end


def inspect_sheet(sheet, all_validations=False):
    """Validated cells of one sheet: (per-cell list, per-range list, used range).

    Reading the Validation property cell by cell over UNO costs ~8 ms per cell
    (a 5000x5 area took 200 s), so instead this walks the sheet's cell format
    ranges - rectangles whose cell attributes, validation and protection
    included, are uniform - and reads each range once. Per-cell entries are
    expanded from those ranges; a range bigger than MAX_EXPAND_CELLS (e.g. a
    whole-column validation) is expanded only down to the end of the used area
    (cursor gotoEndOfUsedArea) and is flagged "truncated" in the range list.
    """
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    used = cursor.getRangeAddress()
    used_end_row = used.EndRow
    cells = []
    ranges_out = []
    ranges = sheet.getCellFormatRanges()
    for i in range(ranges.getCount()):
        rng = ranges.getByIndex(i)
        v = rng.getPropertyValue("Validation")
        vtype = enum_name(v.Type)
        if vtype == "ANY" or (vtype != "LIST" and not all_validations):
            continue
        info = validation_info(v)
        info["locked"] = bool(rng.getPropertyValue("CellProtection").IsLocked)
        a = rng.getRangeAddress()
        ncols = a.EndColumn - a.StartColumn + 1
        nrows = a.EndRow - a.StartRow + 1
        last_row = a.EndRow
        truncated = ncols * nrows > MAX_EXPAND_CELLS
        if truncated:
            last_row = min(a.EndRow, max(used_end_row, a.StartRow))
            last_row = min(last_row, a.StartRow + MAX_EXPAND_CELLS // ncols - 1)
        entry = {"range": range_name(a)}
        entry.update(info)
        entry["truncated"] = truncated
        ranges_out.append(entry)
        for row in range(a.StartRow, last_row + 1):
            for col in range(a.StartColumn, a.EndColumn + 1):
                c = {"cell": f"{col_letters(col)}{row + 1}"}
                c.update(info)
                cells.append((row, col, c))
    cells.sort(key=lambda t: (t[0], t[1]))
    used_range = f"A1:{col_letters(used.EndColumn)}{used.EndRow + 1}"
    return [c for _, _, c in cells], ranges_out, used_range


def run(in_path, out_path, spec):
    import uno  # noqa: F401  (fail early, inside the JSON error path, if missing)

    fill = spec.get("fill") or {}
    inspect = spec.get("inspect") or []
    all_validations = bool(spec.get("all_validations", False))
    allow_locked = bool(spec.get("allow_locked", False))
    if not isinstance(fill, dict) or not isinstance(inspect, list):
        raise FillError('SPEC must be {"fill": {sheet: {cell: value}}, "inspect": [sheet, ...]}')
    in_file = Path(in_path).resolve()
    if not in_file.is_file():
        raise FillError(f"input file not found: {in_file}")
    out_file = Path(out_path).resolve()
    out_file.parent.mkdir(parents=True, exist_ok=True)

    office = Office()
    doc = None
    try:
        # Load a private copy: LibreOffice puts a .~lock.NAME# file beside the
        # document, and a parallel run opening the same IN.xlsx would then fail
        # to load it ("type detection failed" / None).
        work = Path(office.profile, "doc")
        work.mkdir()
        src = work / in_file.name
        shutil.copyfile(str(in_file), str(src))
        office.start()
        doc = office.desktop.loadComponentFromURL(
            src.as_uri(),
            "_blank",
            0,
            (prop("Hidden", True), prop("ReadOnly", False), prop("MacroExecutionMode", 0)),
        )
        if doc is None:
            raise FillError(f"LibreOffice could not load {in_file}; log:\n{office.log_tail()}")
        if not doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
            raise FillError(f"{in_file} did not load as a spreadsheet")

        filled, problems = fill_cells(doc, fill, allow_locked)
        try:
            doc.calculateAll()
        except Exception:
            pass

        sheets = []
        for name in doc.getSheets().getElementNames():
            sh = doc.getSheets().getByName(name)
            sheets.append({"name": name, "visible": bool(sh.getPropertyValue("IsVisible"))})
        protected = {}
        validations = {}
        validation_ranges = {}
        used_ranges = {}
        for name in inspect:
            sh = get_sheet(doc, name)
            protected[name] = bool(sh.isProtected())
            cells, rngs, used = inspect_sheet(sh, all_validations)
            validations[name] = cells
            validation_ranges[name] = rngs
            used_ranges[name] = used

        if out_file.exists():
            out_file.unlink()
        doc.storeToURL(
            out_file.as_uri(),
            (prop("FilterName", "Calc Office Open XML"), prop("Overwrite", True)),
        )
        if not out_file.is_file():
            raise FillError(f"storeToURL did not write {out_file}")
        return {
            "ok": True,
            "sheets": sheets,
            "protected": protected,
            "validations": validations,
            "validation_ranges": validation_ranges,
            "used_range": used_ranges,
            "filled": filled,
            "list_problems": problems,
        }
    finally:
        if doc is not None:
            try:
                doc.close(True)
            except Exception:
                try:
                    doc.dispose()
                except Exception:
                    pass
        office.stop()


def emit(obj):
    data = json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n"
    sys.stdout.buffer.write(data.encode("utf-8"))
    sys.stdout.flush()


def _on_sigterm(signum, frame):
    # Turn SIGTERM (e.g. a caller's timeout) into an exception so the finally
    # blocks still end soffice and remove the temporary profile.
    raise SystemExit(128 + signum)


def main(argv):
    t0 = time.monotonic()
    signal.signal(signal.SIGTERM, _on_sigterm)
    if len(argv) != 4:
        emit({"ok": False, "error": "usage: lo_fill.py IN.xlsx OUT.xlsx SPEC.json"})
        return 1
    try:
        with open(argv[3], encoding="utf-8") as f:
            spec = json.load(f)
        result = run(argv[1], argv[2], spec)
    except FillError as e:
        emit({"ok": False, "error": str(e)})
        return 1
    except Exception as e:  # UNO exceptions, import errors, ...
        traceback.print_exc(file=sys.stderr)
        emit({"ok": False, "error": f"{type(e).__name__}: {e}"})
        return 1
    result["seconds"] = round(time.monotonic() - t0, 2)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
