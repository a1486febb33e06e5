"""Pre-flight of an untrusted file: what it is, and whether it may be parsed at all.

Runs before any XML is parsed. A verdict is a problem code (see problems.py) with a
detail in words a clerk understands; the caps follow Apache POI's defaults (1000 entries,
a ratio cap on large entries) with absolute caps as well, because the declared sizes are
what CPython's zipfile enforces (it never returns more bytes than an entry declares).
"""

from __future__ import annotations

import codecs
import re
import zipfile

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 1000
MAX_ENTRY_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
# A ratio cap only for XML parts big enough to matter (other parts, such as a pasted picture,
# are never inflated): a real sheet full of styled empty cells compresses past 100:1
# (tests/test_intake.py measures one), and the absolute caps already bound memory and time.
# Only a part that is both large and near deflate's limit (about 1032:1) is refused.
MAX_RATIO = 1000
RATIO_MIN_BYTES = 4 * 1024 * 1024

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local header, or the end record of an empty zip
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HOSTILE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
ODF_MIME = b"application/vnd.oasis.opendocument."

MB = 1024 * 1024


class Refused(Exception):
    """The file must not (or cannot) be parsed; args are (problem code, detail)."""

    @property
    def code(self) -> str:
        return self.args[0]

    @property
    def detail(self) -> str:
        return self.args[1] if len(self.args) > 1 else ""


def sniff(data: bytes) -> str:
    """What the bytes are: zip, encrypted, xls, ole, empty or other."""
    if not data:
        return "empty"
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if data.startswith(OLE_MAGIC):
        # An OLE container is either an encrypted OOXML package (Excel's "password to
        # open") or a legacy binary document; the stream names tell which (any case:
        # some writers name the stream WORKBOOK).
        if _stream(data, "EncryptedPackage") or _stream(data, "EncryptionInfo"):
            return "encrypted"
        if _stream(data, "Workbook") or _stream(data, "Book"):
            return "encrypted" if _filepass(data) else "xls"
        return "ole"
    if data[:2] in _BIFF_BOF:  # BIFF2–BIFF4 workbooks are bare record streams, not OLE files
        return "xls"
    return "other"


_BIFF_BOF = (b"\x09\x00", b"\x09\x02", b"\x09\x04")


def _stream(data: bytes, name: str) -> bool:
    return any(v.encode("utf-16-le") in data for v in (name, name.upper(), name.lower()))


def _filepass(data: bytes) -> bool:
    """A BIFF8 workbook with a password to open: FILEPASS (0x002F) among the first records after
    the workbook's BOF (after WRITEPROT, when the file also has one)."""
    at = data.find(b"\x09\x08\x10\x00")
    while at != -1:
        pos = at + 20
        for _ in range(4):
            kind, size = int.from_bytes(data[pos:pos + 2], "little"), int.from_bytes(data[pos + 2:pos + 4], "little")
            if kind == 0x002F:
                return True
            pos += 4 + size
        at = data.find(b"\x09\x08\x10\x00", at + 4)
    return False


def refuse_non_zip(kind: str, data: bytes) -> None:
    """Raise the verdict for anything that is not a zip package."""
    if kind == "empty":
        raise Refused("empty-file")
    if kind == "encrypted":
        raise Refused("encrypted")
    if kind == "xls":
        raise Refused("legacy-xls")
    if kind == "ole":
        raise Refused("not-a-workbook", "Word・PowerPoint など Office の旧形式の文書")
    head = data[:256].lstrip().lower()  # the verdict reads the first 256 bytes
    if head.startswith(b"<!doctype html") or b"<html" in head:
        raise Refused("not-a-workbook", "Web ページ（HTML）")
    if head.startswith(b"<"):  # <?xml ...?> or straight into an element
        raise Refused("not-a-workbook", "XML ファイル")
    if head.startswith(b"%pdf"):
        raise Refused("not-a-workbook", "PDF")
    if _looks_text(data[:4096]):
        raise Refused("not-a-workbook", "テキストファイル（CSV など）")
    raise Refused("not-a-workbook", "形式が分からないファイル")


def _looks_text(chunk: bytes) -> bool:
    """UTF-8 or Shift_JIS text without NUL bytes. The chunk is cut from a file, so it may end
    inside a character: an incremental decoder keeps that last part pending, not an error."""
    if b"\x00" in chunk:
        return False
    for encoding in ("utf-8", "cp932"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(chunk)  # not final: a cut character waits
            return True
        except UnicodeDecodeError:
            continue
    return False


def check_entries(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Entry count, duplicate names and declared sizes; returns name -> info."""
    infos = zf.infolist()
    if not infos:
        raise Refused("zip-archive", "空の ZIP ファイル")
    if len(infos) > MAX_ENTRIES:
        raise Refused("too-large", f"ファイルの中の要素が {len(infos)} 個あります（上限 {MAX_ENTRIES} 個）")
    entries: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        # Some writers use backslashes in part names; the parts are the same.
        name = info.filename.replace("\\", "/")
        if name in entries:
            # zipfile.read() silently returns the last of duplicate names.
            raise Refused("corrupt", "同じ名前の要素が重複しています")
        entries[name] = info
        total += info.file_size
        if info.file_size > MAX_ENTRY_BYTES:
            raise Refused("too-large", f"中の 1 つの要素が展開すると {info.file_size // MB} MB になります"
                                       f"（上限 {MAX_ENTRY_BYTES // MB} MB）")
        if total > MAX_TOTAL_BYTES:
            raise Refused("too-large", f"展開すると合計 {total // MB} MB を超えます（上限 {MAX_TOTAL_BYTES // MB} MB）")
    return entries


def check_ratio(info: zipfile.ZipInfo) -> None:
    if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise Refused("too-large", f"展開すると元の {info.file_size // max(info.compress_size, 1)} 倍に"
                                   "膨らむ不自然な圧縮がされています")


def scan_xml(data: bytes) -> None:
    """Refuse DOCTYPE/ENTITY anywhere in a part: Excel never writes one (entity bombs, XXE)."""
    if _HOSTILE.search(data) or (b"\x00" in data[:4] and _HOSTILE.search(data.replace(b"\x00", b""))):
        raise Refused("hostile-xml")


def odf_verdict(zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo]) -> None:
    """An OpenDocument file (LibreOffice's own .ods) says what it is in its first entry."""
    info = entries.get("mimetype")
    if info is None or info.file_size > 200:
        return
    mime = zf.read(info).strip()
    if mime.startswith(ODS_MIME):
        raise Refused("ods")
    if mime.startswith(ODF_MIME):
        raise Refused("not-a-workbook", "OpenDocument の文書（表計算以外）")
