"""Writing outputs safely: checked xlsxwriter calls and atomic replacement of files."""

from __future__ import annotations

import errno
import io
import math
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

from xlsx_tool import problems as P
from xlsx_tool.errors import FormWriteError, OutputError

FONT = "游ゴシック"
CELL_TEXT_MAX = 32767  # Excel limit: characters in a cell
CUT_MARK = "…（以下省略）"


def new_workbook(buffer: io.BytesIO) -> Any:
    """An in-memory workbook that never turns text into a formula, number or link.

    Department text such as 「=HYPERLINK(…)」 or 「http://…」 must stay text.
    """
    import xlsxwriter  # imported here: `--help` must not pay for it

    return xlsxwriter.Workbook(buffer, {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "default_format_properties": {"font_name": FONT, "font_size": 10},
    })


_SHEET_CLASS: Any = None


def sheet_class() -> Any:
    """A worksheet whose estimated row heights stay auto-height rows.

    Excel fits a row without a stored height to its wrapped text; LibreOffice's import does
    not, it prints what is stored (seen with LibreOffice 7.4). So rows holding wrapped text
    get a height estimated from that text, stored *without* customHeight: LibreOffice prints
    it, and Excel still refits the row while a department types into it.
    """
    global _SHEET_CLASS
    if _SHEET_CLASS is None:
        from xlsxwriter.worksheet import Worksheet

        class FittedSheet(Worksheet):
            def __init__(self) -> None:
                super().__init__()
                self.fitted_rows: dict[int, float] = {}  # row -> the height it was given

            def fit_row(self, row: int, height: float) -> None:
                self.set_row(row, height)
                self.fitted_rows[row] = height

            def rows_points(self, first: int, last: int) -> float:
                """The height of rows first..last as stored (what LibreOffice prints)."""
                return sum(self.fitted_rows.get(r, ROW_POINTS) for r in range(first, last + 1))

            def _unset_custom(self, tag: str, attributes: list) -> list:
                if tag == "row" and attributes and attributes[0][0] == "r" \
                        and int(attributes[0][1]) - 1 in self.fitted_rows:
                    return [a for a in attributes if a[0] != "customHeight"]
                return attributes

            def _xml_start_tag_unencoded(self, tag: str, attributes: list | None = None) -> None:
                super()._xml_start_tag_unencoded(tag, self._unset_custom(tag, attributes or []))

            def _xml_empty_tag_unencoded(self, tag: str, attributes: list | None = None) -> None:
                super()._xml_empty_tag_unencoded(tag, self._unset_custom(tag, attributes or []))

        _SHEET_CLASS = FittedSheet
    return _SHEET_CLASS


def add_sheet(wb: Any, name: str) -> Any:
    return wb.add_worksheet(name, worksheet_class=sheet_class())


# How Excel lays out wrapped text in the workbooks' font (游ゴシック, 10 pt default) on a 96 dpi
# screen, derived from Excel's own figures for 游ゴシック 11 pt (standard column 8.38 wide =
# 72 px, so a digit is 8 px; standard row 18.75 pt): at 10 pt a column width unit (a digit) is
# 7 px, a full-width character one em (13⅓ px), a line about 1.6 times the size. Excel keeps a
# stored row height until a cell of the row is edited, so the height must hold the text as
# Excel wraps it: that is the estimate. LibreOffice (what the tests print with) fits more in a
# line (12 full-width characters in a width-20 column where Excel fits 10) and spaces lines at
# 1.45 times the size (measured with pdftotext -bbox), so its pages show a little room below
# the text, never a cut.
DIGIT_PX = 7.0  # one column width unit at the default 10 pt
WIDE_PX = 40 / 3  # a full-width character at 10 pt: one em
NARROW_PX = 7.0  # an ASCII letter or digit, a half-width katakana, at 10 pt
LINE = 1.6  # line height per point of font size (Excel's 游ゴシック)
PAD = 3.0  # points above and below the lines
# Japanese line breaking (禁則): these never start a line, so the character before them moves
# down with them; opening brackets never end one.
_NO_START = frozenset("、。，．・：；？！゛゜ヽヾゝゞ々ー）］｝〕〉》」』】〙〗’”ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ!),.:;?]}")
_NO_END = frozenset("（［｛〔〈《「『【〘〖‘“([{")
_RUNS = re.compile(r"[\x21-\x7e\uff61-\uff9f]+| +|[^\x21-\x7e\uff61-\uff9f ]+")


def _line_count(part: str, room: float, scale: float) -> int:
    """Lines `part` (no line breaks) takes in `room` px, wrapped as Excel wraps.

    Words of ASCII break at spaces (a word wider than the line breaks anywhere); full-width
    text breaks between any two characters except where 禁則 forbids. One step per run of
    text and per line, not per character.
    """
    narrow, wide = NARROW_PX * scale, WIDE_PX * scale
    lines, x = 1, 0.0
    for run in _RUNS.findall(part):
        first = run[0]
        if first == " ":
            x += narrow * len(run)  # spaces at the end of a line hang in the margin
            continue
        if first.isascii() or "\uff61" <= first <= "\uff9f":  # a word of narrow characters
            width = narrow * len(run)
            if x and x + width > room:
                lines, x = lines + 1, 0.0
            while width > room:  # wider than a line: broken anywhere
                lines, width = lines + 1, width - room
            x += width
            continue
        pos, n = 0, len(run)
        while True:
            fits = min(int(max(room - x, 0.0) // wide), n - pos)
            if pos + fits >= n:
                x += fits * wide
                break
            # 禁則: the character after the break may not start a line, nor the last one end it
            while fits > 1 and (run[pos + fits] in _NO_START or run[pos + fits - 1] in _NO_END):
                fits -= 1
            if fits == 0 and x == 0.0:
                fits = 1  # a line narrower than one character still takes one
            pos += fits
            lines, x = lines + 1, 0.0
    return lines


def text_height(text: str, width: float, font: float = 10.0) -> float:
    """Points a wrapped text needs in a column `width` units wide, at `font` points.

    Text that fits on one line even counted all full-width is not wrapped at all, so most
    cells cost almost nothing (fast for 100,000 rows).
    """
    scale = font / 10.0
    room = width * DIGIT_PX
    lines = 0
    for part in text.split("\n"):
        if len(part) * WIDE_PX * scale <= room:
            lines += 1
        else:
            lines += _line_count(part, room, scale)
    return round(lines * font * LINE + PAD, 1)


def fit_row(ws: Any, row: int, cells: list[tuple[str, float]], font: float = 10.0, minimum: float = 0.0) -> None:
    """Give a row the height its tallest wrapped cell needs (see sheet_class)."""
    height = max([minimum, font * LINE + PAD, *(text_height(t, w, font) for t, w in cells if t)])
    ws.fit_row(row, min(height, 409))  # Excel limit: a row is at most 409 points high


# Paper. Column widths are counted in digit widths of the default font; at 100 % LibreOffice
# fits 10.6–11.1 of them in an inch of A4, depending on margins and orientation (measured:
# tests/test_print.py prints a calibration page, forms and workbooks and reads the text size
# back). Fit-to-width shrinks everything, so a sheet one page wide keeps its 10 pt text at
# MIN_PRINT_SCALE × 10 pt only while its columns stay within width_budget(). The lowest
# measured figure is used, with a little room.
UNITS_PER_INCH = 10.5
MIN_PRINT_SCALE = 0.82  # 10 pt prints at 8.2 pt or more


ROW_POINTS = 15.0  # a row without a stored height: xlsxwriter's default, printed so
# Paging, from LibreOffice PDFs read with pdftotext -bbox: a printed row is 1.2 % taller than
# stored, and fit-to-width prints 10.67–10.80 digit widths an inch (forms: 142.7 units at 83 %,
# 147.7 at 84 %). Where too little room is the safe mistake (a chart must not be cut), the most
# units an inch, so the largest scale, is assumed, and 3 % kept free; where both mistakes cost
# (page breaks set by hand), the measured figure and 1.5 %.
_ROW_FACTOR = 1.012
UNITS_PER_INCH_PRINTED = 10.72
_UNITS_PER_INCH_MAX = 11.1


def page_points(widths: list[float] | tuple[float, ...], landscape: bool, margins: tuple[float, float, float, float],
                exact: bool = False) -> float:
    """How many points of stored row height one printed A4 page holds, for a sheet of these
    column widths printed one page wide (margins: left, right, top, bottom, in inches).
    `exact`: the measured figure, for breaking pages by hand; else a figure never too large."""
    left, right, top, bottom = margins
    wide, high = (11.69, 8.27) if landscape else (8.27, 11.69)
    units = UNITS_PER_INCH_PRINTED if exact else _UNITS_PER_INCH_MAX
    scale = min(1.0, (wide - left - right) * units / max(sum(widths), 1.0))
    return (high - top - bottom) * 72 * (0.985 if exact else 0.97) / (scale * _ROW_FACTOR)


def page_starts(ws: Any, header: int, first: int, last: int, capacity: float) -> list[int]:
    """Manual page breaks that keep a table's last row from printing alone on the last page.

    Rows first..last are the table's body, `header` its header row (repeated on every page).
    Pages are laid out from the stored heights; where the last page would hold a single row,
    every page gets its break (so the application adds none of its own) and the last break
    moves up a row. Otherwise none: the application breaks the pages as it likes.
    """
    starts, used = [], ws.rows_points(0, first - 1)
    repeat = ws.rows_points(header, header)
    for row in range(first, last + 1):
        height = ws.rows_points(row, row)
        if used + height > capacity and row > first:
            starts.append(row)
            used = repeat
        used += height
    if not starts or starts[-1] != last or last - first < 2:
        return []
    if len(starts) > 1 and starts[-2] >= last - 1:
        return []  # the page before holds one row too: moving one would leave another alone
    return starts[:-1] + [last - 1]


def width_budget(landscape: bool, left: float = 0.3, right: float = 0.3) -> float:
    """The total column width a sheet may have to print one A4 page wide at MIN_PRINT_SCALE."""
    paper = 11.69 if landscape else 8.27
    return (paper - left - right) * UNITS_PER_INCH / MIN_PRINT_SCALE


def shrink_widths(widths: list[float], floors: list[float], budget: float) -> list[float]:
    """Take width from the columns that can wrap (down to their floor), in proportion."""
    over = sum(widths) - budget
    room = sum(max(w - f, 0.0) for w, f in zip(widths, floors, strict=True))
    if over <= 0 or room <= 0:
        return widths
    share = min(1.0, over / room)
    # each cut rounded up to 0.1, so the rounded widths never add up to more than the budget
    return [max(f, round(w - math.ceil(round((w - f) * share * 10, 6)) / 10, 1)) if w > f else w
            for w, f in zip(widths, floors, strict=True)]


def ok(ret: int | None, what: str) -> None:
    """xlsxwriter reports trouble by return code (-1 out of range, -2 bad value, -3 …)."""
    if ret is not None and ret < 0:
        raise FormWriteError(P.sentence("xlsx-write-failed", what=what, ret=ret))


def fit_text(text: str) -> tuple[str, bool]:
    """Text as a cell can hold it: at most 32,767 characters, the cut marked."""
    if len(text) <= CELL_TEXT_MAX:
        return text, False
    return text[: CELL_TEXT_MAX - len(CUT_MARK)] + CUT_MARK, True


def write_text(ws: Any, row: int, col: int, text: str, fmt: Any = None) -> bool:
    """write_string within Excel's limits; True when the text had to be cut."""
    fitted, cut = fit_text(text)
    ok(ws.write_string(row, col, fitted, fmt), f"{ws.name} {row + 1}行{col + 1}列")
    return cut


def write_value(ws: Any, row: int, col: int, value: object, fmt: Any = None) -> bool:
    """A finite number as a number, anything else as text (Excel has no NaN or infinity)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value):
            ok(ws.write_number(row, col, value, fmt), f"{ws.name} {row + 1}行{col + 1}列")
            return False
        return write_text(ws, row, col, "", fmt)
    return write_text(ws, row, col, "" if value is None else str(value), fmt)


def close_to_bytes(wb: Any, buffer: io.BytesIO) -> bytes:
    try:
        wb.close()
    except Exception as exc:  # xlsxwriter raises its own exception classes on close
        raise FormWriteError(P.sentence("xlsx-close-failed", detail=type(exc).__name__)) from exc
    return buffer.getvalue()


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask (os.umask can only be read by setting it, so set it back at once).

    Under a lock: two threads reading it at once would otherwise leave it changed.
    """
    with _UMASK_LOCK:
        current = os.umask(0o022)
        os.umask(current)
    return current


WINDOWS_MAX_PATH = 260  # characters in a full path on Windows, unless long paths are enabled


def path_too_long(exc: OSError, *paths: Path | str) -> int:
    """The length of the path that was too long for the system, or 0 when `exc` is something else.

    Linux says ENAMETOOLONG (a path over 4,096 bytes, a name over 255). Windows, where long paths
    are not enabled, says the path does not exist once a full path reaches 260 characters:
    winerror 3 (path not found) or 206 (ERROR_FILENAME_EXCED_RANGE), both FileNotFoundError in
    CPython. There only the length tells it from a file that is really missing.
    """
    names = [os.path.abspath(p) for p in (*paths, exc.filename, exc.filename2) if isinstance(p, str | Path)]
    longest = max((len(name) for name in names), default=0)
    winerror = getattr(exc, "winerror", None)
    if exc.errno == errno.ENAMETOOLONG or winerror == 206:
        return max(longest, 1)
    # a folder's path must leave room for a file name (248), and listing it adds a "\*"
    if winerror in (2, 3) and longest >= WINDOWS_MAX_PATH - 12:
        return longest
    return 0


SQLITE_MAX_PATHNAME = 512  # bytes: SQLite's limit for a database's full path (Windows: 260 characters)


def database_path_too_long(path: Path) -> int:
    """The length of a database path SQLite cannot open for its length, else 0 (it says only
    "unable to open database file")."""
    full = os.path.abspath(path)
    if len(full.encode("utf-8")) >= SQLITE_MAX_PATHNAME or (os.name == "nt" and len(full) >= WINDOWS_MAX_PATH):
        return len(full)
    return 0


def too_long_remedy(length: int) -> str:
    return P.sentence("too-long-path", length=length)


def write_failure(path: Path, exc: OSError) -> OutputError:
    """What to tell a user whose output could not be written, by what went wrong."""
    code = exc.errno
    if length := path_too_long(exc, path):
        return OutputError(P.sentence("output-unwritable", path=path, why=too_long_remedy(length)))
    if code == errno.ENOSPC or code == getattr(errno, "EDQUOT", -1):
        why = "output-disk-full"
    elif code == errno.EROFS:
        why = "output-read-only"
    elif isinstance(exc, PermissionError):
        why = "output-open-in-excel"
    elif code in (errno.ENOTDIR, errno.EEXIST) or isinstance(exc, NotADirectoryError | FileExistsError):
        why = "output-file-in-the-way"
    elif isinstance(exc, IsADirectoryError):
        why = "output-folder-in-the-way"
    else:
        why = "output-other"
    return OutputError(P.sentence("output-unwritable", path=path, why=P.sentence(why)))


def ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failure(folder, exc) from exc
    if not folder.is_dir():
        raise write_failure(folder, NotADirectoryError(errno.ENOTDIR, "not a directory"))


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written output.

    The file gets the permissions any new file would get (mkstemp's are 0600).
    """
    ensure_folder(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".~xlsx-tool-", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_failure(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if os.name == "posix":
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise write_failure(path, exc) from exc


def escape_header_text(text: str) -> str:
    """Excel header/footer codes start with '&'; a literal ampersand is written '&&'."""
    return text.replace("&", "&&")[:200]
