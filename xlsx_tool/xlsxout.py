"""Writing workbooks safely: checked xlsxwriter calls and atomic replacement of outputs."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import xlsxwriter
from xlsxwriter.workbook import Workbook

from .errors import FormWriteError, OutputError

FONT = "游ゴシック"


def new_workbook(buffer: io.BytesIO) -> Workbook:
    """An in-memory workbook that never turns text into a formula, number or link.

    Department text such as 「=HYPERLINK(…)」 or 「http://…」 must stay text.
    """
    return xlsxwriter.Workbook(buffer, {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
        "default_format_properties": {"font_name": FONT, "font_size": 10},
    })


def ok(ret: int | None, what: str) -> None:
    """xlsxwriter reports trouble by return code (-1 out of range, -2 bad value, -3 …)."""
    if ret is not None and ret < 0:
        raise FormWriteError(f"Excel ファイルの書き込みに失敗しました（{what}、コード {ret}）。")


def close_to_bytes(wb: Workbook, buffer: io.BytesIO) -> bytes:
    try:
        wb.close()
    except Exception as exc:  # xlsxwriter raises its own exception classes on close
        raise FormWriteError(f"Excel ファイルを作成できませんでした（{exc}）。") from exc
    return buffer.getvalue()


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written output."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~xlsx-tool-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except PermissionError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(
            f"{path} に書き込めません。Excel で開いたままの可能性があります。"
            f"閉じてから再実行してください。") from exc
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{path} に書き込めません（{exc.strerror}）。") from exc


def col_letter(col: int) -> str:
    """0 -> A, 26 -> AA."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def escape_header_text(text: str) -> str:
    """Excel header/footer codes start with '&'; a literal ampersand is written '&&'."""
    return text.replace("&", "&&")
