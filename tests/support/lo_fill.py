#!/usr/bin/python3
"""Edit and fill an .xlsx with LibreOffice Calc (through UNO), inspect it, save it.

Standalone: stdlib + ``uno`` only, no project imports. ``uno`` lives in the
system Python (Debian: /usr/bin/python3 with python3-uno), not in the project's
venv, so run this as a subprocess:

    /usr/bin/python3 tests/support/lo_fill.py IN.xlsx OUT.xlsx SPEC.json

SPEC.json (UTF-8)::

    {"edits": [{"op": "unprotect", "sheet": "調査票"}, ...],   # optional, see below
     "fill": {"調査票": {"H4": "達成", "I4": 12, "J4": "text"}},
     "inspect": ["調査票"],
     "all_validations": false,   # optional: also report non-LIST validations
     "allow_locked": false,      # optional: allow filling locked cells
     "locale": "ja-JP"}          # optional: LibreOffice's locale (default: environment's)

Order: the edits, in list order; then "fill"; then "inspect" (sheet names as
they are after the edits); then the save.

Fill
----
Cells are set the way a person typing would end up with them: str -> setString
(stored as text, even "12" or "=A1"), int/float -> setValue, null -> cleared.
Every value is read back; if LibreOffice did not take it, that is an error.

Found by testing (LibreOffice 7.4): the UNO API writes straight through sheet
protection and data validation. So this script itself refuses (error) to fill a
locked cell on a protected sheet, as the UI would, unless "allow_locked" is
set. Values that a LIST validation would not accept are only reported, under
"list_problems".

Edits (what a careless clerk does)
----------------------------------
Each entry is an object with "op"; unknown ops or keys are an error before
LibreOffice starts. Columns are letters ("F") or 1-based numbers (6 or "6",
as the `_id` sheet records them); rows are 1-based numbers. "count" defaults
to 1. Like the UI, structural edits and pastes refuse a protected sheet
(LibreOffice's API would only throw a bare RuntimeException, or for a paste
silently do nothing), so unprotect first::

    {"op": "unprotect", "sheet": "調査票", "password": ""}    # password defaults to ""
    {"op": "protect", "sheet": "調査票", "password": ""}
    {"op": "insert_columns", "sheet": "調査票", "before": "F", "count": 1}
    {"op": "delete_columns", "sheet": "調査票", "column": "D", "count": 1}
    {"op": "insert_rows", "sheet": "調査票", "before": 7, "count": 1}
    {"op": "delete_rows", "sheet": "調査票", "row": 7, "count": 1}
    {"op": "copy_row", "sheet": "調査票", "from": 6, "to": 20, "count": 1,
     "mode": "all"}         # "all": whole rows as Ctrl+C/Ctrl+V (values, formats,
                            # validation); "values": paste values only
    {"op": "remove_sheet", "sheet": "_id"}       # hidden/very hidden sheets too
    {"op": "rename_sheet", "sheet": "調査票", "to": "入力"}
    {"op": "show_sheet", "sheet": "_id"}          # unhide
    {"op": "type", "sheet": "調査票", "cell": "G6", "text": "1/2"}
    {"op": "set", "sheet": "調査票", "cell": "G6", "value": "1/2"}     # as in "fill"
    {"op": "set", "sheet": "調査票", "cell": "G6", "formula": "=1+1"}  # setFormula
                            # ("set" takes "allow_locked" too; default: the SPEC's)

"type" enters text exactly as typed into the cell and confirmed with Enter:
it puts the cell cursor on the cell (controller.select) and dispatches
``.uno:EnterString`` (StringName=text) to the document's frame; that runs
ScViewFunc::EnterData, Calc's own input path. Found by testing (LibreOffice
7.4.7, locale en-US from C.UTF-8, saved as .xlsx and read back with openpyxl):

    typed       cell format "General"                  openpyxl reads
    "1/2"       46024.0 (2 Jan of this year), MM/DD/YY  datetime, is_date True
    "75%"       0.75, 0.00%                             0.75, "0.00%"
    "1,234"     1234.0, General                         1234
    "=1+1"      formula, 2                              "=1+1"
    "'123"      text "123"                              "123"
    "2021/4/1"  text (not a date in en-US)              "2021/4/1"

With "locale": "ja-JP": "2021/4/1" -> 44287 with M"月"D"日", "1/2" ->
M"月"D"日", "75%" -> "0%". Calc applies the recognised format only when the
cell's format is the default of its type (General, or the default date, ...):
in a cell formatted "#,##0.###" (the 実績値 column) "1/2" becomes the number
46024 shown as "46,024", keeping "#,##0.###" - what the Calc UI does too.
The alternative XCell.setFormula() parses input as well ("1/2" -> 46024,
"75%" -> 0.75, "=1+1" -> formula) but always with en-US rules and WITHOUT
setting any number format, so "1/2" ends up as a plain number; it is what
"set" with "formula" uses, not "type". Not reproduced by "type": AutoInput
(completion from the column), AutoCorrect, and the validation check of the
input line (a STOP list refusing a value: reported under "list_problems" as
for "fill" - a paste in Calc bypasses validation too). Typing into a locked
cell of a protected sheet or into a hidden sheet is an error, checked before
dispatching: Calc drops such input silently, and in testing the second
refused input in our hidden frame crashed soffice. "text": "" clears the
contents (the Delete key).

The `_id` sheet is not parsed here.

Result
------
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
     "edits": [{"op": "unprotect", "sheet": "調査票", "was_protected": true, "ok": true},
               {"op": "type", "sheet": "調査票", "cell": "G6", "text": "1/2",
                "kind": "VALUE", "value": 46024.0, "display": "01/02/26",
                "formula": "46024", "number_format": "MM/DD/YY", "ok": true}, ...],
     "locale": null,
     "seconds": 3.2}

or ``{"ok": false, "error": "..."}`` with exit code 1; when an edit failed the
error starts with "edits[i] OP:" and "edits" lists the ones done plus the
failed one (with "ok": false and its "error").

``kind`` is the cell type (EMPTY, VALUE, TEXT, FORMULA); ``formula`` is
XCell.getFormula() (API syntax: English names, ";" separators).
``show_list`` is com.sun.star.sheet.TableValidationVisibility:
0 = HIDDEN, 1 = UNSORTED, 2 = SORTEDASCENDING. ``formula1`` is in
LibreOffice syntax: a literal list reads '"a";"b"', a range '$Lists.$A$1:$A$3'.
``visible`` is False for both Excel "hidden" and "veryHidden" sheets.

The soffice executable is taken from $SOFFICE, else ``soffice``/``libreoffice``
on PATH. Each run starts its own headless soffice with a fresh temporary user
profile and a unique pipe name, and always ends it and removes the profile.
"locale" is given to soffice as LC_ALL/LANG (LibreOffice reads them even when
the C library lacks that locale); setting ooSetupSystemLocale in the profile
instead was ignored or only half applied (parsing changed, formats did not).
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

    def __init__(self, locale=None):
        self.locale = locale
        self.profile = tempfile.mkdtemp(prefix="lo_fill_profile_")
        self.pipe = "lo_fill_" + uuid.uuid4().hex
        self.log_path = os.path.join(self.profile, "soffice.log")
        self.proc = None
        self.desktop = None
        self.ctx = None
        self.smgr = None
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
        env = None
        if self.locale:
            # LibreOffice takes its default ("system") locale from these
            # variables even when the C library has no such locale installed.
            posix = self.locale.replace("-", "_") + ".UTF-8"
            env = dict(os.environ, LC_ALL=posix, LANG=posix)
        self.proc = subprocess.Popen(
            cmd,
            env=env,
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
        self.ctx = ctx
        self.smgr = ctx.ServiceManager
        self.desktop = self.smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

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
            if value is not None:
                problem = list_problem(doc, cell, where, value)
                if problem:
                    problems.append(problem)
    return filled, problems


def list_problem(doc, cell, where, value):
    """A "list_problems" entry when cell has a LIST validation its text is not in."""
    v = cell.getPropertyValue("Validation")
    if enum_name(v.Type) != "LIST":
        return None
    items = list_items(doc, v.getFormula1())
    if items is None:
        return {
            "cell": where,
            "value": value,
            "problem": "list not resolved",
            "formula1": v.getFormula1(),
        }
    if cell.getString() not in items:
        return {
            "cell": where,
            "value": value,
            "problem": "not in list",
            "allowed": items,
            "error_style": enum_name(v.ErrorAlertStyle),
        }
    return None


# --------------------------------------------------------------------------
# Edits: what a careless clerk does to the workbook before (or instead of)
# filling it in. Each op is a function (editor, entry) -> details dict.

EDIT_OPS = {}


def edit_op(name, required=(), optional=()):
    def deco(func):
        EDIT_OPS[name] = (func, ("op",) + tuple(required), tuple(optional))
        return func

    return deco


def check_edits(edits):
    """Validate the "edits" list up front (before soffice starts)."""
    if not isinstance(edits, list):
        raise FillError('"edits" must be a list of {"op": ...} objects')
    for i, entry in enumerate(edits):
        if not isinstance(entry, dict) or "op" not in entry:
            raise FillError(f'edits[{i}]: must be an object with an "op" key, not {entry!r}')
        op = entry["op"]
        if op not in EDIT_OPS:
            raise FillError(
                f"edits[{i}]: unknown op {op!r} (known: {', '.join(sorted(EDIT_OPS))})"
            )
        _func, required, optional = EDIT_OPS[op]
        missing = [k for k in required if k not in entry]
        if missing:
            raise FillError(f"edits[{i}] {op}: missing key(s) {', '.join(missing)}")
        unknown = [k for k in entry if k not in required and k not in optional]
        if unknown:
            raise FillError(
                f"edits[{i}] {op}: unknown key(s) {', '.join(unknown)} "
                f"(allowed: {', '.join(required + optional)})"
            )


def column_index(value, what="column"):
    """'F' (letters) or 6 / '6' (1-based number, as `_id` records it) -> 0-based index."""
    n = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str):
        v = value.strip()
        if v.isdigit():
            n = int(v)
        elif v.isascii() and v.isalpha() and len(v) <= 3:
            n = 0
            for ch in v.upper():
                n = n * 26 + ord(ch) - 64
    if n is None or n < 1:
        raise FillError(f"{what} must be a column letter such as 'F' or a 1-based number, not {value!r}")
    return n - 1


def row_index(value, what="row"):
    """1-based row number (int or digit string) -> 0-based index."""
    n = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value.strip())
    if n is None or n < 1:
        raise FillError(f"{what} must be a 1-based row number, not {value!r}")
    return n - 1


def count_of(entry):
    n = entry.get("count", 1)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise FillError(f'"count" must be a positive integer, not {n!r}')
    return n


def used_end(sheet):
    """(last column, last row) of the used area, 0-based."""
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    a = cursor.getRangeAddress()
    return a.EndColumn, a.EndRow


def require_unprotected(sheet, doing):
    if sheet.isProtected():
        raise FillError(
            f"sheet {sheet.getName()!r} is protected, so {doing} is not possible (the Calc UI "
            "refuses it too); put "
            + json.dumps({"op": "unprotect", "sheet": sheet.getName()}, ensure_ascii=False)
            + " first"
        )


def require_structure_editable(doc, doing):
    if doc.isProtected():
        raise FillError(f"the workbook structure is protected, so {doing} is not possible")


def cell_report(doc, cell):
    """What a cell holds now: kind, value, display text, formula, number format."""
    kind = enum_name(cell.getType())
    if kind == "VALUE":
        value = cell.getValue()
    elif kind == "TEXT":
        value = cell.getString()
    elif kind == "FORMULA":
        rtype = cell.getPropertyValue("FormulaResultType2")
        # com.sun.star.sheet.FormulaResult: VALUE 1, STRING 2, ERROR 4
        value = cell.getValue() if rtype == 1 else cell.getString()
    else:
        value = None
    fmt = doc.getNumberFormats().getByKey(cell.getPropertyValue("NumberFormat"))
    return {
        "kind": kind,
        "value": value,
        "display": cell.getString(),
        "formula": cell.getFormula(),
        "number_format": fmt.FormatString,
    }


class Editor:
    def __init__(self, doc, office, allow_locked=False):
        self.doc = doc
        self.office = office
        self.allow_locked = allow_locked
        self.problems = []
        self._dispatcher = None

    def sheet(self, entry):
        name = entry.get("sheet")
        if not isinstance(name, str):
            raise FillError(f'"sheet" must be a sheet name, not {name!r}')
        return get_sheet(self.doc, name)

    def cell(self, sheet, addr):
        where = f"{sheet.getName()}!{addr}"
        if not isinstance(addr, str):
            raise FillError(f'{where}: "cell" must be an address such as "F6"')
        try:
            cell = sheet.getCellRangeByName(addr)
        except Exception as e:
            raise FillError(f"{where}: bad cell address: {e}") from e
        a = cell.getRangeAddress()
        if a.StartColumn != a.EndColumn or a.StartRow != a.EndRow:
            raise FillError(f"{where}: a single cell is needed, not a range")
        return cell, where

    def dispatcher(self):
        if self._dispatcher is None:
            self._dispatcher = self.office.smgr.createInstanceWithContext(
                "com.sun.star.frame.DispatchHelper", self.office.ctx
            )
        return self._dispatcher

    def apply(self, edits):
        done = []
        for i, entry in enumerate(edits):
            op = entry["op"]
            func = EDIT_OPS[op][0]
            try:
                details = func(self, entry)
            except Exception as e:
                msg = str(e) if isinstance(e, FillError) else f"{type(e).__name__}: {e}"
                err = FillError(f"edits[{i}] {op}: {msg}")
                err.partial = {"edits": done + [dict(entry, ok=False, error=msg)]}
                raise err from e
            result = {"op": op}
            if "sheet" in entry:
                result["sheet"] = entry["sheet"]
            result.update(details)
            result["ok"] = True
            done.append(result)
        return done


@edit_op("unprotect", required=("sheet",), optional=("password",))
def op_unprotect(ed, e):
    sheet = ed.sheet(e)
    password = e.get("password", "")
    if not isinstance(password, str):
        raise FillError('"password" must be a string')
    was = bool(sheet.isProtected())
    if was:
        try:
            sheet.unprotect(password)
        except Exception as ex:  # IllegalArgumentException for a wrong password
            raise FillError(
                f"sheet {sheet.getName()!r}: could not remove protection with password "
                f"{password!r} (wrong password?): {ex}"
            ) from ex
        if sheet.isProtected():
            raise FillError(f"sheet {sheet.getName()!r} is still protected after unprotect")
    return {"was_protected": was}


@edit_op("protect", required=("sheet",), optional=("password",))
def op_protect(ed, e):
    sheet = ed.sheet(e)
    password = e.get("password", "")
    if not isinstance(password, str):
        raise FillError('"password" must be a string')
    was = bool(sheet.isProtected())
    if not was:
        sheet.protect(password)
        if not sheet.isProtected():
            raise FillError(f"sheet {sheet.getName()!r} did not become protected")
    return {"was_protected": was}


def _insert(ed, e, axis):
    sheet = ed.sheet(e)
    count = count_of(e)
    if axis == "columns":
        idx = column_index(e["before"], '"before"')
        label = col_letters(idx)
        coll = sheet.getColumns()
    else:
        idx = row_index(e["before"], '"before"')
        label = idx + 1
        coll = sheet.getRows()
    require_unprotected(sheet, f"inserting {axis}")
    if idx >= coll.getCount():
        raise FillError(f"{axis[:-1]} {label} is outside the sheet")
    end_col, end_row = used_end(sheet)

    def line(i):
        if axis == "columns":
            return sheet.getCellRangeByPosition(i, 0, i, end_row).getDataArray()
        return sheet.getCellRangeByPosition(0, i, end_col, i).getDataArray()

    before = line(idx)
    try:
        coll.insertByIndex(idx, count)
    except Exception as ex:  # e.g. content would be pushed off the sheet
        raise FillError(f"LibreOffice refused to insert {count} {axis} before {label}: {ex}") from ex
    empty = all(v == "" for i in range(idx, idx + count) for row in line(i) for v in row)
    if line(idx + count) != before or not empty:
        raise FillError(f"inserting {count} {axis} before {label} did not shift the content")
    return {"before": label, "count": count}


def _delete(ed, e, axis):
    sheet = ed.sheet(e)
    count = count_of(e)
    if axis == "columns":
        idx = column_index(e["column"], '"column"')
        label = col_letters(idx)
        coll = sheet.getColumns()
    else:
        idx = row_index(e["row"], '"row"')
        label = idx + 1
        coll = sheet.getRows()
    require_unprotected(sheet, f"deleting {axis}")
    if idx + count > coll.getCount():
        raise FillError(f"{count} {axis} from {label} go beyond the sheet")
    try:
        coll.removeByIndex(idx, count)
    except Exception as ex:
        raise FillError(f"LibreOffice refused to delete {count} {axis} from {label}: {ex}") from ex
    key = "column" if axis == "columns" else "row"
    return {key: label, "count": count}


@edit_op("insert_columns", required=("sheet", "before"), optional=("count",))
def op_insert_columns(ed, e):
    return _insert(ed, e, "columns")


@edit_op("insert_rows", required=("sheet", "before"), optional=("count",))
def op_insert_rows(ed, e):
    return _insert(ed, e, "rows")


@edit_op("delete_columns", required=("sheet", "column"), optional=("count",))
def op_delete_columns(ed, e):
    return _delete(ed, e, "columns")


@edit_op("delete_rows", required=("sheet", "row"), optional=("count",))
def op_delete_rows(ed, e):
    return _delete(ed, e, "rows")


@edit_op("remove_sheet", required=("sheet",))
def op_remove_sheet(ed, e):
    sheet = ed.sheet(e)
    name = sheet.getName()
    visible = bool(sheet.getPropertyValue("IsVisible"))
    protected = bool(sheet.isProtected())
    require_structure_editable(ed.doc, f"removing sheet {name!r}")
    sheets = ed.doc.getSheets()
    if sheets.getCount() < 2:
        raise FillError(f"{name!r} is the only sheet; a workbook needs one")
    sheets.removeByName(name)
    if sheets.hasByName(name):
        raise FillError(f"sheet {name!r} is still there after removing it")
    return {"was_visible": visible, "was_protected": protected}


@edit_op("rename_sheet", required=("sheet", "to"))
def op_rename_sheet(ed, e):
    sheet = ed.sheet(e)
    old, new = sheet.getName(), e["to"]
    if not isinstance(new, str) or not new:
        raise FillError(f'"to" must be a non-empty sheet name, not {new!r}')
    require_structure_editable(ed.doc, f"renaming sheet {old!r}")
    sheets = ed.doc.getSheets()
    if new != old and sheets.hasByName(new):
        raise FillError(f"there is already a sheet named {new!r}")
    try:
        sheet.setName(new)
    except Exception as ex:
        raise FillError(f"LibreOffice refused the sheet name {new!r}: {ex}") from ex
    if not sheets.hasByName(new):
        raise FillError(f"LibreOffice did not rename {old!r} to {new!r} (invalid name?)")
    return {"to": new}


@edit_op("show_sheet", required=("sheet",))
def op_show_sheet(ed, e):
    sheet = ed.sheet(e)
    was = bool(sheet.getPropertyValue("IsVisible"))
    if not was:
        require_structure_editable(ed.doc, f"showing sheet {sheet.getName()!r}")
        sheet.setPropertyValue("IsVisible", True)
        if not sheet.getPropertyValue("IsVisible"):
            raise FillError(f"sheet {sheet.getName()!r} stayed hidden")
    return {"was_visible": was}


@edit_op("copy_row", required=("sheet", "from", "to"), optional=("count", "mode"))
def op_copy_row(ed, e):
    sheet = ed.sheet(e)
    src = row_index(e["from"], '"from"')
    dst = row_index(e["to"], '"to"')
    count = count_of(e)
    mode = e.get("mode", "all")
    if mode not in ("all", "values"):
        raise FillError(f'"mode" must be "all" (Ctrl+C, Ctrl+V) or "values" (paste values only), not {mode!r}')
    require_unprotected(sheet, "pasting rows")
    nrows = sheet.getRows().getCount()
    if max(src, dst) + count > nrows:
        raise FillError(f"rows {src + 1}/{dst + 1} (+{count}) go beyond the sheet")
    end_col, _ = used_end(sheet)

    def block(first):
        return sheet.getCellRangeByPosition(0, first, end_col, first + count - 1)

    before = block(src).getFormulaArray()
    if mode == "all":
        last_col = sheet.getColumns().getCount() - 1
        source = sheet.getCellRangeByPosition(0, src, last_col, src + count - 1).getRangeAddress()
        sheet.copyRange(sheet.getCellByPosition(0, dst).getCellAddress(), source)
        after = block(dst).getFormulaArray()
        # Relative references in formulas move with the paste; compare kinds.
        same = all(
            (a == b) or (a.startswith("=") and b.startswith("="))
            for ra, rb in zip(before, after, strict=True)
            for a, b in zip(ra, rb, strict=True)
        )
    else:
        data = block(src).getDataArray()
        block(dst).setDataArray(data)
        same = block(dst).getDataArray() == data
    if not same:
        raise FillError(f"row(s) {src + 1} were not copied to {dst + 1}")
    return {"from": src + 1, "to": dst + 1, "count": count, "mode": mode}


@edit_op("type", required=("sheet", "cell", "text"))
def op_type(ed, e):
    sheet = ed.sheet(e)
    cell, where = ed.cell(sheet, e["cell"])
    text = e["text"]
    if not isinstance(text, str):
        raise FillError(f'{where}: "text" must be a string (what is typed), not {text!r}')
    if not sheet.getPropertyValue("IsVisible"):
        raise FillError(f'{where}: the sheet is hidden, a user cannot type there (use "show_sheet" first)')
    # Checked here because the UI would refuse - Calc drops such input silently,
    # and a second refused input crashed soffice in a hidden frame (7.4).
    if sheet.isProtected() and cell.getPropertyValue("CellProtection").IsLocked:
        raise FillError(f"{where}: cell is locked on a protected sheet; a user could not type {text!r} here")
    if text == "":
        cell.setString("")  # the Delete key: contents gone, format kept
    else:
        ctrl = ed.doc.getCurrentController()
        if ctrl is None or not ctrl.select(cell):
            raise FillError(f"{where}: could not put the cell cursor on the cell")
        a, b = ctrl.getSelection().getRangeAddress(), cell.getRangeAddress()
        if (a.Sheet, a.StartColumn, a.StartRow) != (b.Sheet, b.StartColumn, b.StartRow):
            raise FillError(f"{where}: the cell cursor is on {range_name(a)}, not on the cell")
        ed.dispatcher().executeDispatch(
            ctrl.getFrame(), ".uno:EnterString", "", 0, (prop("StringName", text),)
        )
    report = cell_report(ed.doc, cell)
    if text != "" and report["kind"] == "EMPTY":
        raise FillError(f"{where}: Calc did not take the input {text!r}")
    out = {"cell": e["cell"], "text": text}
    out.update(report)
    problem = list_problem(ed.doc, cell, where, text) if text != "" else None
    if problem:
        ed.problems.append(problem)
        out["list_problem"] = problem
    return out


@edit_op("set", required=("sheet", "cell"), optional=("value", "formula", "allow_locked"))
def op_set(ed, e):
    sheet = ed.sheet(e)
    cell, where = ed.cell(sheet, e["cell"])
    if ("value" in e) == ("formula" in e):
        raise FillError(f'{where}: give exactly one of "value" and "formula"')
    allow_locked = bool(e.get("allow_locked", ed.allow_locked))
    if "value" in e:
        _filled, problems = fill_cells(ed.doc, {sheet.getName(): {e["cell"]: e["value"]}}, allow_locked)
        ed.problems.extend(problems)
    else:
        formula = e["formula"]
        if not isinstance(formula, str) or not formula.startswith("="):
            raise FillError(f'{where}: "formula" must be a string starting with "=", not {formula!r}')
        if not allow_locked and sheet.isProtected() and cell.getPropertyValue("CellProtection").IsLocked:
            raise FillError(f"{where}: cell is locked on a protected sheet")
        cell.setFormula(formula)
        if enum_name(cell.getType()) != "FORMULA":
            raise FillError(f"{where}: {formula!r} did not become a formula")
    out = {"cell": e["cell"]}
    out.update(cell_report(ed.doc, cell))
    return out


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
    fill = spec.get("fill") or {}
    inspect = spec.get("inspect") or []
    all_validations = bool(spec.get("all_validations", False))
    allow_locked = bool(spec.get("allow_locked", False))
    edits = spec.get("edits") or []
    locale = spec.get("locale") or None
    if not isinstance(fill, dict) or not isinstance(inspect, list):
        raise FillError('SPEC must be {"fill": {sheet: {cell: value}}, "inspect": [sheet, ...]}')
    check_edits(edits)
    if locale is not None and (
        not isinstance(locale, str)
        or not all(part.isascii() and part.isalnum() for part in locale.split("-"))
    ):
        raise FillError(f'"locale" must be a language tag such as "ja-JP", not {locale!r}')
    import uno  # noqa: F401  (fail early, inside the JSON error path, if missing)

    in_file = Path(in_path).resolve()
    if not in_file.is_file():
        raise FillError(f"input file not found: {in_file}")
    out_file = Path(out_path).resolve()
    out_file.parent.mkdir(parents=True, exist_ok=True)

    office = Office(locale)
    doc = None
    try:
        # Load a private copy: LibreOffice puts a .~lock.NAME# file beside the
        # document, and a parallel run opening the same IN.xlsx would then fail
        # to load it ("type detection failed" / None). ASCII names, for both
        # the copy and the saved file (moved to OUT afterwards): under a
        # "locale" the C library lacks, soffice cannot open or write paths
        # with e.g. Japanese characters.
        work = Path(office.profile, "doc")
        work.mkdir()
        src = work / ("input" + in_file.suffix)
        saved = work / "output.xlsx"
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

        editor = Editor(doc, office, allow_locked)
        edit_results = editor.apply(edits)
        filled, problems = fill_cells(doc, fill, allow_locked)
        problems = editor.problems + problems
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
            saved.as_uri(),
            (prop("FilterName", "Calc Office Open XML"), prop("Overwrite", True)),
        )
        if not saved.is_file():
            raise FillError(f"storeToURL did not write {out_file}")
        shutil.copyfile(str(saved), str(out_file))
        return {
            "ok": True,
            "sheets": sheets,
            "protected": protected,
            "validations": validations,
            "validation_ranges": validation_ranges,
            "used_range": used_ranges,
            "filled": filled,
            "list_problems": problems,
            "edits": edit_results,
            "locale": locale,
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
        out = {"ok": False, "error": str(e)}
        out.update(getattr(e, "partial", None) or {})
        emit(out)
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
