#!/usr/bin/python3
"""Fill cells of an .xlsx with LibreOffice Calc (through UNO), inspect it, save it.

Standalone: stdlib + ``uno`` only, no project imports. ``uno`` lives in the
system Python (Debian: /usr/bin/python3 with python3-uno), not in the project's
venv, so run this as a subprocess:

    /usr/bin/python3 tests/support/lo_fill.py IN.xlsx OUT.xlsx SPEC.json

SPEC.json (UTF-8)::

    {"fill": {"調査票": {"H4": "達成", "I4": 12, "J4": "text"}},
     "inspect": ["調査票"],
     "all_validations": false}      # optional: also report non-LIST validations

Cells are set the way a person typing would end up with them: str -> setString
(stored as text), int/float -> setValue, null -> cell cleared. Every value is
read back; if LibreOffice did not take it (e.g. the cell is locked on a
protected sheet) that is an error. Sheets are never unprotected. Note that the
UNO API does not apply data validation to values set this way.

Prints exactly one JSON object on stdout::

    {"ok": true,
     "sheets": [{"name": "調査票", "visible": true}, ...],
     "protected": {"調査票": true},
     "validations": {"調査票": [{"cell": "H4", "type": "LIST", "formula1": "...",
                                 "show_list": 1, "error_style": "STOP",
                                 "locked": false, ...}]},
     "filled": {"調査票": {"H4": "達成", "I4": 12.0}},
     "seconds": 3.2}

or ``{"ok": false, "error": "..."}`` with exit code 1.

``show_list`` is com.sun.star.sheet.TableValidationVisibility:
0 = HIDDEN, 1 = UNSORTED, 2 = SORTEDASCENDING.

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
# Cap for scanning validation ranges that extend over whole columns/rows.
MAX_SCAN_COL = 255
MAX_SCAN_ROW = 4999


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
            "--accept=pipe,name=%s;urp;" % self.pipe,
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
        url = "uno:pipe,name=%s;urp;StarOffice.ComponentContext" % self.pipe
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
                    "soffice exited with code %s before accepting connections; log:\n%s"
                    % (rc, self.log_tail())
                )
            if time.monotonic() > deadline:
                raise FillError(
                    "could not connect to soffice within %ds: %s; log:\n%s"
                    % (CONNECT_TIMEOUT, last, self.log_tail())
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
            "no sheet %r (sheets: %s)" % (name, ", ".join(sheets.getElementNames()))
        )
    return sheets.getByName(name)


def fill_cells(doc, fill):
    filled = {}
    for sheet_name, cells in fill.items():
        sheet = get_sheet(doc, sheet_name)
        out = filled.setdefault(sheet_name, {})
        for addr, value in cells.items():
            try:
                cell = sheet.getCellRangeByName(addr)
            except Exception as e:
                raise FillError("%s!%s: bad cell address: %s" % (sheet_name, addr, e))
            where = "%s!%s" % (sheet_name, addr)
            try:
                if value is None:
                    cell.setString("")
                    ok = cell.getType().value == "EMPTY"
                    got = None
                elif isinstance(value, bool):
                    raise FillError("%s: booleans are not supported (%r)" % (where, value))
                elif isinstance(value, str):
                    cell.setString(value)
                    got = cell.getString()
                    ok = got == value
                elif isinstance(value, (int, float)):
                    cell.setValue(float(value))
                    got = cell.getValue()
                    ok = got == float(value) and cell.getType().value == "VALUE"
                else:
                    raise FillError("%s: unsupported value type %s" % (where, type(value).__name__))
            except FillError:
                raise
            except Exception as e:
                raise FillError("%s: LibreOffice refused the value %r: %s" % (where, value, e))
            if not ok:
                locked = cell.getPropertyValue("CellProtection").IsLocked
                raise FillError(
                    "%s: value %r was not taken (cell now %r; sheet protected=%s, cell locked=%s)"
                    % (where, value, cell.getString(), sheet.isProtected(), locked)
                )
            out[addr] = got
    return filled


def inspect_sheet(sheet, all_validations=False):
    cursor = sheet.createCursor()
    cursor.gotoStartOfUsedArea(False)
    cursor.gotoEndOfUsedArea(True)
    used = cursor.getRangeAddress()
    end_col, end_row = used.EndColumn, used.EndRow
    # gotoEndOfUsedArea only covers cell content; validations often sit on empty
    # input rows below it, so widen the scan by the ranges that carry a
    # validation attribute (bounded, in case a whole column is formatted).
    ranges = sheet.getCellFormatRanges()
    for i in range(ranges.getCount()):
        rng = ranges.getByIndex(i)
        if enum_name(rng.getPropertyValue("Validation").Type) == "ANY":
            continue
        a = rng.getRangeAddress()
        end_col = max(end_col, min(a.EndColumn, MAX_SCAN_COL))
        end_row = max(end_row, min(a.EndRow, MAX_SCAN_ROW))
    found = []
    for row in range(0, end_row + 1):
        for col in range(0, end_col + 1):
            cell = sheet.getCellByPosition(col, row)
            v = cell.getPropertyValue("Validation")
            vtype = enum_name(v.Type)
            if vtype == "ANY" or (vtype != "LIST" and not all_validations):
                continue
            found.append(
                {
                    "cell": "%s%d" % (col_letters(col), row + 1),
                    "type": vtype,
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
                    "locked": bool(cell.getPropertyValue("CellProtection").IsLocked),
                }
            )
    return found


def run(in_path, out_path, spec):
    import uno

    fill = spec.get("fill") or {}
    inspect = spec.get("inspect") or []
    all_validations = bool(spec.get("all_validations", False))
    if not isinstance(fill, dict) or not isinstance(inspect, list):
        raise FillError('SPEC must be {"fill": {sheet: {cell: value}}, "inspect": [sheet, ...]}')
    in_file = Path(in_path).resolve()
    if not in_file.is_file():
        raise FillError("input file not found: %s" % in_file)
    out_file = Path(out_path).resolve()
    out_file.parent.mkdir(parents=True, exist_ok=True)

    office = Office()
    doc = None
    try:
        office.start()
        doc = office.desktop.loadComponentFromURL(
            in_file.as_uri(),
            "_blank",
            0,
            (prop("Hidden", True), prop("ReadOnly", False), prop("MacroExecutionMode", 0)),
        )
        if doc is None:
            raise FillError("LibreOffice could not load %s; log:\n%s" % (in_file, office.log_tail()))
        if not doc.supportsService("com.sun.star.sheet.SpreadsheetDocument"):
            raise FillError("%s did not load as a spreadsheet" % in_file)

        filled = fill_cells(doc, fill)
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
        for name in inspect:
            sh = get_sheet(doc, name)
            protected[name] = bool(sh.isProtected())
            validations[name] = inspect_sheet(sh, all_validations)

        if out_file.exists():
            out_file.unlink()
        doc.storeToURL(
            out_file.as_uri(),
            (prop("FilterName", "Calc Office Open XML"), prop("Overwrite", True)),
        )
        if not out_file.is_file():
            raise FillError("storeToURL did not write %s" % out_file)
        return {
            "ok": True,
            "sheets": sheets,
            "protected": protected,
            "validations": validations,
            "filled": filled,
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


def main(argv):
    t0 = time.monotonic()
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
        emit({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
        return 1
    result["seconds"] = round(time.monotonic() - t0, 2)
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
