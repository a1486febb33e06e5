"""Reading returned files safely: pre-flight checks, then a minimal reader of the cells.

Every returned file is untrusted. Before any XML is parsed the file is pre-flighted
(magic bytes, entry count, declared sizes, compression ratio, no DOCTYPE/ENTITY), and the
reader keeps what a form check needs that general readers blur: whether a cell holds a
formula, whether that formula has a cached value, and error values (#N/A, #REF!).
The functions here run inside a worker process (see sandbox.py); they return plain data.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

# Limits. Apache POI's defaults are the model (1000 entries, 100:1 on entries over 100 KB);
# absolute caps as well, because a real styles.xml comes close to that ratio.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 1000
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_RATIO = 100
RATIO_MIN_BYTES = 100 * 1024
MAX_CELLS = 500_000

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HOSTILE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
ID_SHEET = "_id"


@dataclass
class RawCell:
    value: object  # str, float, bool or None (cached value)
    kind: str  # "n" number, "s" text, "b" boolean, "e" error, "d" ISO date text
    formula: bool = False


@dataclass
class RawWorkbook:
    """What the reader got out of one file, or why it could not."""

    sha256: str = ""
    size: int = 0
    failure: str = ""  # a problem code when the file could not be read
    detail: str = ""
    sheets: list[tuple[str, str]] = field(default_factory=list)  # (name, state)
    cells: dict[str, dict[str, RawCell]] = field(default_factory=dict)  # sheet -> "H7" -> cell
    custom: dict[str, str] = field(default_factory=dict)
    modified: str = ""  # docProps/core.xml dcterms:modified
    date1904: bool = False


class Refused(Exception):
    """The file must not (or cannot) be parsed; args are (problem code, detail)."""


def read_workbook(path: Path, want: tuple[str, ...] = ()) -> RawWorkbook:
    """Pre-flight and read `path`. `want` names the sheets to read besides `_id`.

    When `want` is empty the input sheet is taken from the identification sheet.
    """
    result = RawWorkbook()
    try:
        size = path.stat().st_size
        result.size = size
        if size > MAX_FILE_BYTES:
            raise Refused("too-large", f"ファイルサイズ {size // (1024 * 1024)} MB")
        data = path.read_bytes()
        result.sha256 = hashlib.sha256(data).hexdigest()
        _read(data, result, want)
    except Refused as exc:
        result.failure, result.detail = exc.args[0], exc.args[1] if len(exc.args) > 1 else ""
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        result.failure, result.detail = "corrupt", _short(exc)
    except (ParseError, DefusedXmlException) as exc:
        result.failure, result.detail = "corrupt", "XML: " + _short(exc)
    except OSError as exc:
        result.failure, result.detail = "corrupt", exc.strerror or _short(exc)
    except (NotImplementedError, RuntimeError, ValueError, LookupError, UnicodeError) as exc:
        # zipfile raises NotImplementedError for an unknown compression method and
        # RuntimeError for an entry flagged as encrypted; bad numbers or indexes in the XML
        # surface as ValueError/IndexError. For an untrusted file each means "broken".
        result.failure, result.detail = "corrupt", _short(exc)
    return result


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def sniff(data: bytes) -> str:
    """What the bytes are: zip, encrypted, xls, ole, empty or other."""
    if not data:
        return "empty"
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if data.startswith(OLE_MAGIC):
        # An OLE container is either an encrypted OOXML package (Excel's "password to
        # open") or a legacy binary workbook; the stream names tell which.
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            return "encrypted"
        if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
            return "xls"
        return "ole"
    return "other"


def _read(data: bytes, result: RawWorkbook, want: tuple[str, ...]) -> None:
    kind = sniff(data)
    if kind == "empty":
        raise Refused("empty-file")
    if kind == "encrypted":
        raise Refused("encrypted")
    if kind == "xls":
        raise Refused("legacy-xls")
    if kind == "ole":
        raise Refused("not-a-workbook", "Office の旧形式の文書")
    if kind == "other":
        head = data[:64].lstrip()
        what = "テキストファイル" if _looks_text(data[:4096]) else "不明な形式"
        if head.startswith((b"<html", b"<!DOCTYPE", b"<?xml")):
            what = "HTML/XML ファイル"
        raise Refused("not-a-workbook", what)
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = _preflight(zf)
    if "xl/workbook.xml" not in names:
        raise Refused("not-a-workbook", "Excel 以外の文書（Word/PowerPoint など）")
    _read_package(zf, names, result, want)


def _looks_text(chunk: bytes) -> bool:
    try:
        chunk.decode("utf-8")
        return True
    except UnicodeDecodeError:
        try:
            chunk.decode("cp932")
            return b"\x00" not in chunk
        except UnicodeDecodeError:
            return False


def _preflight(zf: zipfile.ZipFile) -> set[str]:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise Refused("too-large", f"{len(infos)} 個の要素（上限 {MAX_ENTRIES}）")
    names: set[str] = set()
    total = 0
    for info in infos:
        if info.filename in names:
            # zipfile.read() silently returns the last of duplicate names.
            raise Refused("corrupt", f"重複した要素 {info.filename}")
        names.add(info.filename)
        total += info.file_size
        if info.file_size > MAX_ENTRY_BYTES or total > MAX_TOTAL_BYTES:
            raise Refused("too-large", f"展開後 {max(info.file_size, total) // (1024 * 1024)} MB 超")
        if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Refused("too-large", f"圧縮率 {info.file_size // max(info.compress_size, 1)}:1")
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")) or info.filename == "[Content_Types].xml":
            _scan_xml(zf, info)
    return names


def _scan_xml(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Refuse DOCTYPE/ENTITY anywhere in a part; read in chunks, bounded by declared size."""
    tail = b""
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 16):
            window = tail + chunk
            # A UTF-16 part spells "<!DOCTYPE" with NUL bytes between the letters.
            if _HOSTILE.search(window) or _HOSTILE.search(window.replace(b"\x00", b"")):
                raise Refused("hostile-xml")
            tail = chunk[-32:]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(elem, name: str) -> str | None:
    for key, value in elem.attrib.items():
        if _local(key) == name:
            return value
    return None


def _read_package(zf: zipfile.ZipFile, names: set[str], result: RawWorkbook,
                  want: tuple[str, ...]) -> None:
    rels = _relationships(zf, "xl/_rels/workbook.xml.rels", "xl/", names)
    targets: dict[str, str] = {}
    for _event, elem in iterparse(zf.open("xl/workbook.xml"), events=("end",)):
        tag = _local(elem.tag)
        if tag == "sheet":
            name = elem.get("name", "")
            result.sheets.append((name, elem.get("state", "visible")))
            rid = _attr(elem, "id")
            if rid and rid in rels:
                targets[name] = rels[rid]
        elif tag == "workbookPr":
            result.date1904 = elem.get("date1904", "0") in ("1", "true")
    strings = _shared_strings(zf, names)
    result.custom = _custom_properties(zf, names)
    result.modified = _modified(zf, names)
    if ID_SHEET in targets:
        result.cells[ID_SHEET] = _sheet_cells(zf, targets[ID_SHEET], strings, names)
    wanted = list(want)
    if not wanted:
        ident = result.cells.get(ID_SHEET, {})
        sheet = next((c.value for ref, c in ident.items()
                      if ref.startswith("B") and ident.get("A" + ref[1:], RawCell(None, "s")).value == "sheet"), None)
        if isinstance(sheet, str):
            wanted.append(sheet)
    for name in wanted:
        if name in targets and name not in result.cells:
            result.cells[name] = _sheet_cells(zf, targets[name], strings, names)


def _relationships(zf: zipfile.ZipFile, part: str, base: str, names: set[str]) -> dict[str, str]:
    if part not in names:
        return {}
    rels = {}
    for _event, elem in iterparse(zf.open(part), events=("end",)):
        if _local(elem.tag) == "Relationship":
            target = elem.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else base + target
            rels[elem.get("Id", "")] = _normpath(target)
    return rels


def _normpath(path: str) -> str:
    parts: list[str] = []
    for p in path.split("/"):
        if p == "..":
            if parts:
                parts.pop()
        elif p and p != ".":
            parts.append(p)
    return "/".join(parts)


def _shared_strings(zf: zipfile.ZipFile, names: set[str]) -> list[str]:
    if "xl/sharedStrings.xml" not in names:
        return []
    strings: list[str] = []
    parts: list[str] = []
    depth_rph = 0
    for event, elem in iterparse(zf.open("xl/sharedStrings.xml"), events=("start", "end")):
        tag = _local(elem.tag)
        if tag == "rPh":  # Japanese Excel's phonetic reading (furigana): not cell text
            depth_rph += 1 if event == "start" else -1
        elif event == "end" and tag == "t" and not depth_rph:
            parts.append(elem.text or "")
        elif event == "end" and tag == "si":
            strings.append("".join(parts))
            parts = []
            elem.clear()
    return strings


_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d{1,7})$")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _sheet_cells(zf: zipfile.ZipFile, part: str, strings: list[str], names: set[str]) -> dict[str, RawCell]:
    if part not in names:
        raise Refused("corrupt", f"シートの実体 {part} がありません")
    cells: dict[str, RawCell] = {}
    row_no, col_no = 0, 0
    cur: dict = {}
    in_is = 0
    in_rph = 0
    texts: list[str] = []
    for event, elem in iterparse(zf.open(part), events=("start", "end")):
        tag = _local(elem.tag)
        if event == "start":
            if tag == "row":
                r = elem.get("r")
                row_no = int(r) if r and r.isdigit() else row_no + 1
                col_no = 0
            elif tag == "c":
                ref = elem.get("r") or ""
                m = _CELL_REF.match(ref)
                if m:
                    col_no = _col_index(m.group(1))
                    row_no = int(m.group(2))
                else:  # writers may omit r: the cell follows the previous one
                    col_no += 1
                cur = {"ref": f"{_col_letters(col_no)}{row_no}", "t": elem.get("t", "n"),
                       "f": False, "v": None}
                texts = []
            elif tag == "is":
                in_is += 1
            elif tag == "rPh":
                in_rph += 1
            continue
        if tag == "f":
            cur["f"] = True
        elif tag == "v":
            cur["v"] = elem.text
        elif tag == "t" and in_is and not in_rph:
            texts.append(elem.text or "")
        elif tag == "is":
            in_is -= 1
            cur["v"] = "".join(texts)
        elif tag == "rPh":
            in_rph -= 1
        elif tag == "c":
            cell = _cell(cur, strings)
            if cell is not None:
                cells[cur["ref"]] = cell
                if len(cells) > MAX_CELLS:
                    raise Refused("too-large", f"{MAX_CELLS} セル超")
            elem.clear()
        elif tag == "row":
            elem.clear()
    return cells


def _cell(cur: dict, strings: list[str]) -> RawCell | None:
    t, v, formula = cur["t"], cur["v"], cur["f"]
    if v is None:
        return RawCell(None, "s", True) if formula else None
    if t == "s":
        try:
            return RawCell(strings[int(v)], "s", formula)
        except (ValueError, IndexError):
            return RawCell(None, "e", formula)  # a dangling shared-string index
    if t in ("str", "inlineStr"):
        return RawCell(v, "s", formula)
    if t == "b":
        return RawCell(v in ("1", "true"), "b", formula)
    if t == "e":
        return RawCell(v, "e", formula)
    if t == "d":
        return RawCell(v, "d", formula)
    try:
        return RawCell(float(v), "n", formula)
    except ValueError:
        return RawCell(v, "s", formula)


def _custom_properties(zf: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    if "docProps/custom.xml" not in names:
        return {}
    props: dict[str, str] = {}
    current = None
    for event, elem in iterparse(zf.open("docProps/custom.xml"), events=("start", "end")):
        tag = _local(elem.tag)
        if event == "start" and tag == "property":
            current = elem.get("name")
        elif event == "end" and tag != "property" and current and elem.text is not None:
            props.setdefault(current, elem.text)
        elif event == "end" and tag == "property":
            current = None
    return props


def _modified(zf: zipfile.ZipFile, names: set[str]) -> str:
    if "docProps/core.xml" not in names:
        return ""
    for _event, elem in iterparse(zf.open("docProps/core.xml"), events=("end",)):
        if _local(elem.tag) == "modified":
            return (elem.text or "").strip()
    return ""
