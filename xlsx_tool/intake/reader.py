"""Reading an untrusted workbook: pre-flight, then the cells a form check needs.

The reader keeps what general readers blur: whether a cell holds a formula and whether
that formula has a cached value, error values (#N/A, #REF!), and a number's format (a date
or a percentage typed into a number field is stored as a plain number with a date or %
format; the format's code says how Excel shows it). Parts are found through the package's
relationships, not by fixed names; strings have their ``_xHHHH_`` escapes decoded, their
furigana (rPh) dropped and, where Excel trims them, their edge whitespace trimmed.

Parsing is done on the bytes with regular expressions over the SpreadsheetML grammar the
writers use (Excel, LibreOffice, openpyxl, xlsxwriter, Google Sheets): several times
faster than building an element tree. They only ever see a part in a plain form: expat
checks every part they read, and one that uses what XML allows around the same content
(comments, CDATA, other namespaces…) is first rewritten by it (see "What an XML parser
reads" below). tests/test_intake.py holds the reader against python-calamine and openpyxl,
benchmarks/differential.py against calamine over public test files. Runs inside a worker
process (see sandbox.py); returns plain data.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from xml.parsers import expat

from xlsx_tool.intake import preflight as F
from xlsx_tool.intake.numfmt import BUILTIN, general, shown, shown_text
from xlsx_tool.intake.preflight import Refused
from xlsx_tool.xlsxout import path_too_long, too_long_remedy

MAX_CELLS = 500_000
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384  # Excel limits
ID_SHEET = "_id"
FIRST_SHEET = "\x00first"  # `want` marker: the first sheet in workbook order (the master)


class RawCell(NamedTuple):
    value: object  # str, float, bool or None (the cached value)
    kind: str  # "n" number, "s" text, "b" boolean, "e" error, "d" ISO date text
    formula: bool = False
    style: str = ""  # a number's format class: "date", "percent" or ""
    format: str = ""  # a number's format code as Excel shows it ("0.0%", "yyyy/m/d"); "" is General


Cells = dict[tuple[int, int], RawCell]  # (row, column), both 1-based


def cell_text(cell: RawCell, date1904: bool = False) -> tuple[str, bool]:
    """The text a cell shows in Excel, and whether that is faithful: a number with its number
    format applied (60% for 0.6 with 0%, 2025/3/31 for a date, 0012 with 0000); where the
    format cannot be shown (numfmt.shown), the number as General and False."""
    value = cell.value
    if value is None:
        return "", True
    if cell.kind == "n" and isinstance(value, float):
        if not cell.format:
            return general(value), True
        text = shown(value, cell.format, date1904)
        return (general(value), False) if text is None else (text, True)
    if cell.kind == "b":
        return ("TRUE" if value else "FALSE"), True
    if cell.format and isinstance(value, str):  # a format with a text section: "未"@, ;;;
        text = shown_text(value, cell.format)
        return (value, False) if text is None else (text, True)
    return str(value), True


@dataclass
class RawWorkbook:
    """What the reader got out of one file, or why it could not."""

    sha256: str = ""
    size: int = 0
    failure: str = ""  # a problem code when the file could not be read
    detail: str = ""
    sheets: list[tuple[str, str]] = field(default_factory=list)  # (name, state) in order
    cells: dict[str, Cells] = field(default_factory=dict)  # sheet name -> cells
    custom: dict[str, str] = field(default_factory=dict)  # custom document properties
    modified: str = ""  # docProps/core.xml dcterms:modified, as written
    application: str = ""  # docProps/app.xml <Application>: the program that saved it
    zip_time: str = ""  # the newest zip entry time (local time, no zone; Excel writes 1980)
    date1904: bool = False

    def first_sheet(self) -> str | None:
        visible = [n for n, state in self.sheets if state == "visible"]
        everything = visible or [n for n, _s in self.sheets]
        return everything[0] if everything else None


def read_workbook(path: Path, want: tuple[str, ...] = ()) -> RawWorkbook:
    """Pre-flight and read `path`: the `_id` sheet and the sheets named in `want`."""
    result = RawWorkbook()
    try:
        try:
            size = path.stat().st_size
            result.size = size
            if size > F.MAX_FILE_BYTES:
                raise Refused("too-large", f"ファイルサイズが {size // F.MB} MB あります"
                                           f"（上限 {F.MAX_FILE_BYTES // F.MB} MB）")
            data = path.read_bytes()
        except PermissionError as exc:
            if path.is_dir():  # Windows answers "access denied" for a folder, not IsADirectoryError
                raise Refused("not-a-workbook", "フォルダ") from exc
            raise Refused("no-permission") from exc
        except IsADirectoryError as exc:
            raise Refused("not-a-workbook", "フォルダ") from exc
        except OSError as exc:
            raise Refused("unreadable", _os_reason(exc, path)) from exc
        result.sha256 = hashlib.sha256(data).hexdigest()
        read_bytes(data, result, want)
    except Refused as exc:
        result.failure, result.detail = exc.code, exc.detail
        result.sheets, result.cells = [], {}
    except (zipfile.BadZipFile, zlib.error, EOFError, zipfile.LargeZipFile):
        result.failure, result.detail = "corrupt", "ZIP 形式として壊れています"
    except NotImplementedError:
        result.failure, result.detail = "corrupt", "対応していない圧縮方式です"
    except RuntimeError:  # zipfile: an entry flagged as encrypted
        result.failure, result.detail = "corrupt", "要素が暗号化されています"
    except (ValueError, LookupError, UnicodeError, OverflowError):
        result.failure, result.detail = "corrupt", "ファイルの中身（XML）が壊れています"
    if result.failure:
        result.sheets, result.cells = [], {}
    return result


def _os_reason(exc: OSError, path: Path | None = None) -> str:
    if length := path_too_long(exc, *([path] if path else [])):
        return too_long_remedy(length)
    return {2: "ファイルが見つかりません（読み取り中に移動・削除された可能性があります）",
            5: "入出力エラー（ディスクやネットワークの不調）"}.get(exc.errno or 0, "読み取りエラー")


def read_bytes(data: bytes, result: RawWorkbook, want: tuple[str, ...] = ()) -> None:
    kind = F.sniff(data)
    if kind != "zip":
        F.refuse_non_zip(kind, data)
    zf = zipfile.ZipFile(io.BytesIO(data))
    if any(i.filename.replace("\\", "/").lower().endswith("xl/workbook.bin") for i in zf.infolist()):
        raise Refused("xlsb")  # say what it is before any size limit speaks
    entries = F.check_entries(zf)
    F.odf_verdict(zf, entries)
    result.zip_time = _zip_time(entries.values())
    package = _Package(zf, entries)
    package.scan_all()
    main = package.main_part()
    _Workbook(package, main, result).read(want)


def _zip_time(infos: Iterable[zipfile.ZipInfo]) -> str:
    """The newest entry time: a zip stores local time without a zone. Excel writes 1980-01-01
    for every entry; LibreOffice the time of the save, which tells how to read its
    dcterms:modified (collect/decide.py)."""
    newest = max((i.date_time for i in infos if i.date_time[0] > 1980), default=None)
    if newest is None:
        return ""
    try:
        return dt.datetime(*newest).isoformat()
    except ValueError:
        return ""


# --- the package ------------------------------------------------------------------------

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


class _Package:
    """The zip's parts, each read once, checked for DOCTYPE and turned into UTF-8 bytes."""

    def __init__(self, zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo]):
        self.zf, self.entries = zf, entries
        self.lower = {name.lower(): name for name in entries}
        if len(self.lower) != len(entries):
            # Part names are compared without case (ECMA-376 Part 2, §9.1.1.1.2) and a package
            # must not hold two equivalent names: which one a reader takes is anyone's guess.
            raise Refused("corrupt", "大文字・小文字だけが違う同じ名前の要素があります")
        self.parts: dict[str, bytes] = {}
        self.plain: dict[str, bytes] = {}

    def scan_all(self) -> None:
        """Every XML part is read (and checked) once; other parts (images) are never inflated."""
        for name in self.entries:
            if name.lower().endswith(_XML_SUFFIXES) or name == "[Content_Types].xml":
                self.part(name)

    def find(self, name: str) -> str | None:
        """A part by name; zip names are case-sensitive but some writers vary the case."""
        return name if name in self.entries else self.lower.get(name.lower())

    def xml(self, name: str, kind: str = "") -> bytes:
        """A part as the expressions read it: checked by expat, and rewritten into the plain
        form when it is not plain where they look (`kind`: "sheet", "strings", "styles";
        the small parts, "", are always rewritten)."""
        data = self.plain.get(name)
        if data is None:
            data = self.plain[name] = plain_xml(self.part(name), kind)
        return data

    def part(self, name: str) -> bytes:
        if name in self.parts:
            return self.parts[name]
        info = self.entries[name]
        with self.zf.open(info) as fh:
            head = fh.read(65536)
            # A DOCTYPE sits in the prolog: say "hostile" before "too large" for entity bombs.
            F.scan_xml(head)
            F.check_ratio(info)
            data = head + fh.read()
        F.scan_xml(data)
        data = _to_utf8(data)
        if b"\r" in data:  # XML end-of-line handling, as a conforming parser does
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self.parts[name] = data
        return data

    def relationships(self, source: str) -> list[tuple[str, str, str]]:
        """(id, type, target part) of a part's relationships; targets resolved to part names."""
        folder, base = posixpath.split(source)
        rels_name = self.find(posixpath.join(folder, "_rels", base + ".rels"))
        if rels_name is None:
            return []
        found = []
        for attrs in _elements(self.xml(rels_name), b"Relationship"):
            if attrs.get("TargetMode", "").lower() == "external":
                continue
            # an absolute target ("/xl/...") replaces the folder in join(); _normpath drops its "/"
            target = posixpath.join(folder, attrs.get("Target", ""))
            found.append((attrs.get("Id", ""), attrs.get("Type", ""), _normpath(target)))
        return found

    def content_type(self, part: str) -> str:
        types = self.find("[Content_Types].xml")
        if types is None:
            return ""
        data = self.xml(types)
        # look for the one part by name before parsing any element (the table lists every part)
        if part.encode("utf-8").lower() not in data.lower():
            return ""
        for attrs in _elements(data, b"Override"):
            if attrs.get("PartName", "").lstrip("/").lower() == part.lower():
                return attrs.get("ContentType", "")
        return ""

    def main_part(self) -> str:
        """The office document the package holds; refuse anything but a workbook."""
        mains = [t for _i, kind, t in self.relationships("") if kind.endswith("/officeDocument")]
        main = next((self.find(t) for t in mains if self.find(t)), None)
        if main is None:
            main = self.find("xl/workbook.xml")
        if main is None:
            names = [n.lower() for n in self.entries]
            if any(n.startswith("word/") for n in names):
                raise Refused("not-a-workbook", "Word の文書")
            if any(n.startswith("ppt/") for n in names):
                raise Refused("not-a-workbook", "PowerPoint の資料")
            if any(n.endswith((".xlsx", ".xlsm")) for n in names):
                raise Refused("zip-archive", "Excel ファイルを圧縮した ZIP ファイル")
            raise Refused("zip-archive", "ZIP 圧縮ファイル")
        kind = self.content_type(main).lower()
        if "wordprocessingml" in kind or (not kind and main.lower().startswith("word/")):
            raise Refused("not-a-workbook", "Word の文書")
        if "presentationml" in kind or (not kind and main.lower().startswith("ppt/")):
            raise Refused("not-a-workbook", "PowerPoint の資料")
        if main.lower().endswith(".bin") or "binary" in kind:
            raise Refused("xlsb")
        if not main.lower().endswith(".xml"):
            raise Refused("not-a-workbook", "Excel ブックではない Office 文書")
        return main


def _to_utf8(data: bytes) -> bytes:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16").encode("utf-8")
    if data[:2] in (b"<\x00", b"\x00<"):
        return data.decode("utf-16-le" if data[0] == 0x3C else "utf-16-be").encode("utf-8")
    m = _DECL.match(data[:200])
    if m:
        encoding = m.group(1).decode("ascii").lower().replace("_", "-")
        if encoding not in ("utf-8", "utf8"):
            return data.decode(encoding).encode("utf-8")
    return data


def _normpath(path: str) -> str:
    parts: list[str] = []
    for p in path.split("/"):
        if p == "..":
            if parts:
                parts.pop()
        elif p and p != ".":
            parts.append(p)
    return "/".join(parts)


# --- the expressions' building blocks --------------------------------------------------

_NS = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix (x:c, Strict OOXML writers)
_END = rb"(?=[\s/>])"  # where an element's name ends: <c> and <c r=…>, never <c-x> or <cx>
# A start tag's attributes, lazily: XML allows ">" (and "/>") inside an attribute's value
_IN_TAG = rb"""(?:[^>"']|"[^"]*"|'[^']*')*?"""


# --- what an XML parser reads -------------------------------------------------------------
#
# The expressions further down read SpreadsheetML as its writers lay it out. XML allows more
# around the same content, and read naively each could show Excel one value and give the tool
# another: a cell inside a comment or a processing instruction (no content for any XML
# reader), "</t>" inside a CDATA section (text), a prefix bound to another namespace, elements
# of a namespace Excel skips (mc:Ignorable) or a choice between alternatives
# (mc:AlternateContent, Markup Compatibility, ECMA-376 Part 3). (">" inside an attribute value
# the expressions take as XML does: _IN_TAG.) So they only see a part in a plain form. A part
# that is plain where they look (no comment, processing instruction or CDATA section, the
# root's default namespace SpreadsheetML's or none, every element there unprefixed and no
# namespace declared there) is read as it is: that check is one scan of the bytes. Any
# other part is rewritten by expat into the plain form: comments and instructions left out,
# CDATA as escaped text, elements of the SpreadsheetML and package namespaces unprefixed,
# attributes of the relationships namespace as r:…, Markup Compatibility applied as Excel
# applies it, and elements of other namespaces left out with their content. A part expat
# cannot parse is refused (Excel refuses it too), and so is an element of a namespace Excel
# neither understands nor may ignore inside the content we read (cells, strings, the sheet
# list, formats, relationships, properties): Excel would refuse the file.

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_REL_NS = frozenset({"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                     "http://purl.oclc.org/ooxml/officeDocument/relationships"})
_CONTENT_NS = frozenset({
    "",  # no namespace (hand-made parts): read as SpreadsheetML, as the expressions always did
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # Strict OOXML
    "http://schemas.openxmlformats.org/package/2006/relationships",
    "http://schemas.openxmlformats.org/package/2006/content-types",
    "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "http://purl.oclc.org/ooxml/officeDocument/customProperties",
    "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
    "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/",
})
# Elements whose content the reader takes: inside them, nothing may be skipped silently.
_READ_INSIDE = frozenset({"sheetData", "sst", "sheets", "numFmts", "cellXfs", "Relationships",
                          "Types", "Properties"})
_NOT_XML = "ファイルの中身（XML）が壊れています"
_HIDDEN = "セルの内容に Excel が表示しない部分（別の名前空間の要素・代替コンテンツ）があります"



def plain_xml(data: bytes, kind: str = "") -> bytes:
    """`data` (UTF-8) as the expressions may read it; Refused when it is no XML or holds
    content Excel would not show. `kind` says where they look: "sheet" up to the end of
    <sheetData>, with every element there unprefixed (the one-pass cell scan reads <c r=…>);
    "styles" up to <extLst>; anything else the whole part."""
    start = data.find(b"?>") + 2 if data.startswith(b"<?xml") else 0
    at = data.find(b"<", start)
    root = _ROOT.match(data, at) if at != -1 else None
    if root is None or root.group(1)[:1] in (b"?", b"!"):  # no element to begin with: expat says why
        return _Rewrite().run(data)
    bound = {(m.group(1) or b"").decode("utf-8"): xml_text(m.group(2) or m.group(3) or b"")
             for m in _XMLNS.finditer(root.group(2))}
    content = {prefix.encode() for prefix, uri in bound.items() if prefix and uri in _CONTENT_NS}
    prefix, colon, _name = root.group(1).rpartition(b":")
    if bound.get("", "") not in _CONTENT_NS or (colon and prefix not in content) or any(
            (p == "r") != (uri in _REL_NS) for p, uri in bound.items() if p == "r" or uri in _REL_NS):
        # elements of another namespace, or an r:id that is not the relationship's id
        return _Rewrite().run(data)
    end = len(data)
    if b"MustUnderstand" in data:  # mc:MustUnderstand: whether Excel can, the rewrite decides
        return _Rewrite().run(data)
    if kind == "sheet":  # to the last mention of sheetData or mergeCell: the sheet is read that far
        end = max(data.rfind(b"sheetData"), data.rfind(b"mergeCell"), root.end())
        content = set()  # and it reads unprefixed cells only
    elif kind == "styles":
        extensions = data.find(b"<extLst", root.end())
        end = extensions if extensions != -1 else end
    if b"xmlns" in data[root.end():end]:
        return _Rewrite().run(data)
    for m in _MARKUP.finditer(data, root.end()):
        tag = m.group(0)
        if tag[-1:] != b":" or (m.start() < end and tag[1:-1] not in content):
            return _Rewrite().run(data)  # <!-- or <![CDATA[, <?, or a prefix where we look
    return data


# "<!" opens a comment or a CDATA section (a DOCTYPE never passes the pre-flight), "<?" after
# the root a processing instruction, "<x:" a prefixed element (its start tag: every element has one)
_MARKUP = re.compile(rb"<[^\s/>:]*[:?!]")
_ROOT = re.compile(rb"<([^\s/>]+)(" + _IN_TAG + rb")>")
_XMLNS = re.compile(rb"\sxmlns(?::([^\s=]+))?\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _understood(uri: str | None) -> bool:
    """A namespace Excel understands (Markup Compatibility, ECMA-376 Part 3 §10): SpreadsheetML,
    the package's own, and Microsoft's extensions (x14, x15, xr…); not another vendor's."""
    return uri is not None and (uri in _CONTENT_NS or uri in _REL_NS or uri == _MC_NS
                                or uri.startswith(_EXCEL_NAMESPACES))


_EXCEL_NAMESPACES = ("http://schemas.microsoft.com/office/", "http://schemas.openxmlformats.org/",
                     "http://purl.oclc.org/ooxml/", "urn:schemas-microsoft-com:")


class _Frame(NamedTuple):
    name: str | None  # the element written, or None where only its content counts (mc:Choice)
    ignorable: frozenset[str]  # namespaces mc:Ignorable names here
    process: frozenset[str]  # "uri local" of ignored elements whose content counts (mc:ProcessContent)
    inside: bool  # inside content the reader takes (_READ_INSIDE), not in an extLst
    chosen: list[bool] | None = None  # of an mc:AlternateContent: whether a branch was taken


_TOP = _Frame(None, frozenset(), frozenset(), False)


class _Rewrite:
    """A part rewritten by expat into the plain form (see above), Markup Compatibility applied
    as Excel applies it: of mc:AlternateContent the first mc:Choice whose namespaces Excel
    understands (else mc:Fallback), elements of an ignorable namespace left out (their
    content kept where mc:ProcessContent says so)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.stack: list[_Frame] = []
        self.prefixes: dict[str | None, list[str]] = {}
        self.skipped = 0  # depth inside an element left out

    def run(self, data: bytes) -> bytes:
        parser = expat.ParserCreate(encoding="utf-8", namespace_separator=" ")
        parser.buffer_text = True
        parser.ordered_attributes = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text
        parser.StartNamespaceDeclHandler = lambda prefix, uri: self.prefixes.setdefault(prefix, []).append(uri)
        parser.EndNamespaceDeclHandler = lambda prefix: self.prefixes[prefix].pop()
        try:
            parser.Parse(data, True)
        except expat.ExpatError as exc:
            raise Refused("corrupt", _NOT_XML) from exc
        return "".join(self.out).encode("utf-8")

    def uri(self, prefix: str) -> str | None:
        bound = self.prefixes.get(prefix or None)
        return bound[-1] if bound else None

    def start(self, name: str, attrs: list[str]) -> None:
        if self.skipped:
            self.skipped += 1
            return
        parent = self.stack[-1] if self.stack else _TOP
        ns, _, local = name.rpartition(" ")
        kept: list[str] = []
        ignorable, process = parent.ignorable, parent.process
        for i in range(0, len(attrs), 2):
            ans, _, alocal = attrs[i].rpartition(" ")
            value = attrs[i + 1]
            if ans == _MC_NS:
                prefixes = value.split()
                if alocal == "Ignorable":
                    ignorable = ignorable | {u for u in map(self.uri, prefixes) if u}
                elif alocal == "ProcessContent":
                    process = process | {f"{self.uri(q.partition(':')[0])} {q.partition(':')[2]}" for q in prefixes}
                elif alocal == "MustUnderstand" and not all(_understood(self.uri(q)) for q in prefixes):
                    raise Refused("corrupt", _HIDDEN)  # Excel refuses what it must but cannot understand
                continue
            if ans in _REL_NS:
                alocal = "r:" + alocal
            elif ans == _XML_NS:
                alocal = "xml:" + alocal
            elif ans:
                continue  # x14ac:dyDescent…: nothing the reader takes
            kept += [alocal, value]
        if ns == _MC_NS:
            requires = dict(zip(kept[::2], kept[1::2], strict=True)).get("Requires", "")
            self.alternative(local, parent, requires.split(), ignorable, process)
            return
        if ns not in _CONTENT_NS:
            if f"{ns} {local}" in process or f"{ns} *" in process:
                self.stack.append(_Frame(None, ignorable, process, parent.inside))
            elif parent.inside and ns not in ignorable:
                raise Refused("corrupt", _HIDDEN)  # Excel refuses the file, or shows what we skip
            else:
                self.skipped = 1
            return
        out = ["<", local]
        for i in range(0, len(kept), 2):
            out += [" ", kept[i], '="', _escape(kept[i + 1], True), '"']
        out.append(">")  # never "/>": <v></v> and <v/> are the same to every expression
        self.out.append("".join(out))
        inside = (parent.inside or local in _READ_INSIDE) and local != "extLst"
        self.stack.append(_Frame(local, ignorable, process, inside))

    def alternative(self, local: str, parent: _Frame, requires: list[str], ignorable: frozenset[str],
                    process: frozenset[str]) -> None:
        """mc:AlternateContent and its branches: only the chosen branch's content counts."""
        if local == "AlternateContent":
            self.stack.append(_Frame(None, ignorable, process, parent.inside, [False]))
            return
        chosen = parent.chosen
        if chosen is not None and not chosen[0] and (
                local == "Fallback" or local == "Choice" and all(_understood(self.uri(q)) for q in requires)):
            chosen[0] = True
            self.stack.append(_Frame(None, ignorable, process, parent.inside))
            return
        self.skipped = 1

    def end(self, _name: str) -> None:
        if self.skipped:
            self.skipped -= 1
            return
        frame = self.stack.pop()
        if frame.name is not None:
            self.out.append(f"</{frame.name}>")

    def text(self, data: str) -> None:
        if not self.skipped and self.stack and self.stack[-1].chosen is None:
            self.out.append(_escape(data, False))


def _escape(text: str, attribute: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
    return text


# --- SpreadsheetML on the bytes ----------------------------------------------------------

# An attribute: its name follows white space (a value's text never counts as another attribute).
_ATTR = re.compile(rb"(?<=\s)([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


# Builds each pattern once: at import for the module's patterns below, and once per element name
# for _ELEMENT_CACHE. mutmut's runner imports and fills the cache before it forks a mutant, so a
# mutant here would never run; the patterns are pinned by the reader's tests instead.
def _tag(name: bytes, body: bool = True) -> re.Pattern[bytes]:  # pragma: no mutate block
    """<name attrs/> or <name attrs>body</name>; group 1 attrs, group 2 body (None if empty)."""
    if not body:
        return re.compile(rb"<" + _NS + name + _END + rb"(" + _IN_TAG + rb")/?>")
    return re.compile(rb"<" + _NS + name + _END + rb"(" + _IN_TAG + rb")(?:/>|>(.*?)</" + _NS + name + rb"\s*>)", re.S)


def _attrs(raw: bytes) -> dict[str, str]:
    """Attributes by name; a prefixed one keeps its prefix (r:id), so no attribute of another
    namespace (foo:t) stands in for the one the reader wants (t)."""
    out: dict[str, str] = {}
    for m in _ATTR.finditer(raw):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        out.setdefault(m.group(1).decode("utf-8"), xml_text(value))
    return out


_ELEMENT_CACHE: dict[bytes, re.Pattern[bytes]] = {}


def _elements(data: bytes, name: bytes) -> list[dict[str, str]]:
    pattern = _ELEMENT_CACHE.get(name)
    if pattern is None:
        pattern = _ELEMENT_CACHE[name] = _tag(name, body=False)
    return [_attrs(m.group(1)) for m in pattern.finditer(data)]


_ENTITY = re.compile(rb"&(#[0-9]{1,8}|#x[0-9a-fA-F]{1,6}|[A-Za-z][\w.-]*);")
_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"', b"apos": "'"}
_CDATA = re.compile(rb"<!\[CDATA\[(.*?)\]\]>", re.S)


def xml_text(raw: bytes) -> str:
    """Character data as an XML parser gives it: references resolved, CDATA kept as is."""
    if b"<![CDATA[" in raw:
        out: list[str] = []
        pos = 0
        for m in _CDATA.finditer(raw):
            out.append(xml_text(raw[pos:m.start()]))
            out.append(m.group(1).decode("utf-8"))
            pos = m.end()
        out.append(xml_text(raw[pos:]))
        return "".join(out)
    if b"&" not in raw:
        return raw.decode("utf-8")
    return _ENTITY.sub(_reference, raw).decode("utf-8")


def _reference(m: re.Match[bytes]) -> bytes:
    """A character or entity reference; one an XML parser refuses raises ValueError, which makes
    the file "corrupt" (the message is read_workbook's, so these carry none)."""
    ref = m.group(1)
    if ref.startswith(b"#"):
        code = int(ref[2:], 16) if ref[1:2] in (b"x",) else int(ref[1:])
        if not _is_xml_char(code):
            raise ValueError
        return chr(code).encode()
    if ref not in _NAMED:  # no DTD, so no other entity exists: the XML is broken
        raise ValueError
    return _NAMED[ref].encode()


def _is_xml_char(code: int) -> bool:
    """XML 1.0's Char: tab, line feed, carriage return and the printable planes, no surrogates."""
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD \
        or 0x10000 <= code <= 0x10FFFF


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def decode_escapes(text: str) -> str:
    """SpreadsheetML's ``_xHHHH_`` escapes: ``_x000D_`` is a carriage return, and a typed
    ``_x0041_`` is stored as ``_x005F_x0041_`` (one left-to-right pass gets both right)."""
    if "_x" not in text:
        return text
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in decoded):
        # escaped surrogate pairs become one character; a lone one cannot be text
        decoded = decoded.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return decoded


_T = _tag(b"t")
_RPH = re.compile(rb"<" + _NS + rb"rPh" + _END + _IN_TAG + rb"(?:/>|>.*?</" + _NS + rb"rPh\s*>)", re.S)
_SI = _tag(b"si")
_PRESERVE = re.compile(rb"\sxml:space\s*=\s*(?:\"preserve\"|'preserve')")
_EDGE_SPACE = " \t\n\r"  # XML's white space; U+00A0 and U+3000 are text


def t_text(raw: bytes, preserve: bool) -> str:
    """One <t>: Excel drops the white space at its ends unless it says xml:space="preserve"
    (which Excel itself writes whenever a string has such space); references count as the
    characters they stand for, _xHHHH_ escapes are decoded after the trim."""
    text = xml_text(raw)
    return decode_escapes(text if preserve else text.strip(_EDGE_SPACE))


def rich_text(body: bytes | None) -> str:
    """The text of an <si> or <is>: every <t>, runs included, furigana (rPh) left out."""
    if not body:
        return ""
    if b"rPh" in body:
        body = _RPH.sub(b"", body)
    return "".join(t_text(m.group(2) or b"", _PRESERVE.search(m.group(1)) is not None)
                   for m in _T.finditer(body))


class SharedStrings:
    """The shared-string table, each entry decoded when a cell first asks for it: a form's
    table holds every string of the workbook (the instructions too), its input sheet few."""

    def __init__(self, data: bytes = b""):
        self.raw = [m.group(2) for m in _SI.finditer(data)]
        self.done: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index: int) -> str:
        text = self.done.get(index)
        if text is None:
            if index < 0:
                raise IndexError(index)
            body = self.raw[index]
            simple = _SIMPLE_SI.fullmatch(body) if body else None
            if simple:
                text = xml_text(simple.group(2))
                if simple.group(1) is None:  # see t_text
                    text = text.strip(_EDGE_SPACE)
                text = self.done[index] = decode_escapes(text)
            else:
                text = self.done[index] = rich_text(body)
        return text


_SIMPLE_SI = re.compile(rb"<t( xml:space=\"preserve\")?>([^<]*)</t>")


def shared_strings(data: bytes) -> list[str]:
    table = SharedStrings(data)
    return [table[i] for i in range(len(table))]


# Number formats (ECMA-376 §18.8.30): built-in ids that show dates/times or percentages.
_DATE_IDS = {*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59), *range(71, 82)}
_PERCENT_IDS = {9, 10}
_QUOTED = re.compile(r'"[^"]*"|\\.|_.|\*.')
_BRACKET = re.compile(r"\[(?![hms]+\])[^\]]*\]", re.IGNORECASE)


def format_class(code: str) -> str:
    """'percent', 'date' or '' for a number format code ("0.0%", "yyyy/m/d", "#,##0")."""
    s = _BRACKET.sub("", _QUOTED.sub("", code)).split(";")[0]
    s = re.sub(r"(?i)general", "", s)
    if "%" in s:
        return "percent"
    if re.search(r"(?i)AM/PM|A/P", s):  # a time of day, even without hours
        return "date"
    s = re.sub(r"[eE][+-]", "", s)  # scientific notation, not the era year
    return "date" if re.search(r"(?i)[ymdhsegb]", s) else ""


_NUMFMTS = _tag(b"numFmts")
_NUMFMT = _tag(b"numFmt", body=False)
_CELLXFS = _tag(b"cellXfs")
_XF = _tag(b"xf", body=False)
_NUMFMT_ID = re.compile(rb"\snumFmtId\s*=\s*[\"']([0-9]{1,6})[\"']")


class NumberFormat(NamedTuple):
    style: str  # "date", "percent" or "" (format_class)
    code: str  # the format code, "" for General
    text: bool = False  # it shows text otherwise than typed (a text section: "未"@, ;;;)


GENERAL = NumberFormat("", "")


def _number_format(code: str) -> NumberFormat:
    code = "" if code.lower() == "general" else code
    return NumberFormat(format_class(code), code, bool(code) and shown_text("\x00", code) != "\x00")


def number_formats(data: bytes) -> list[NumberFormat]:
    """The number format of each cell style (cellXfs index). Custom formats are taken from
    <numFmts> only (a differential format's numFmt, inside <dxfs>, styles no cell); built-in
    ids get their code as a Japanese Excel shows them (intake/numfmt.py)."""
    custom: dict[int, NumberFormat] = {}
    block = _NUMFMTS.search(data)
    for m in _NUMFMT.finditer(block.group(2) or b"" if block else b""):
        a = _attrs(m.group(1))
        given = a.get("numFmtId", "")
        if given.isascii() and given.isdigit():
            custom[int(given)] = _number_format(a.get("formatCode", ""))
    block = _CELLXFS.search(data)
    formats = []
    for m in _XF.finditer(block.group(2) or b"" if block else b""):
        xf_id = _NUMFMT_ID.search(m.group(1))
        fid = int(xf_id.group(1)) if xf_id else 0
        formats.append(custom.get(fid) or _builtin(fid))
    return formats


def _builtin(fid: int) -> NumberFormat:
    found = _BUILTIN_FORMATS.get(fid)
    if found is not None:
        return found
    # an id the table leaves to the language of Excel (Thai dates 71–81): its class, shown as yyyy/m/d
    if fid in _DATE_IDS:
        return NumberFormat("date", "yyyy/m/d")
    return NumberFormat("percent", "0%") if fid in _PERCENT_IDS else GENERAL


_BUILTIN_FORMATS = {fid: _number_format(code) for fid, code in BUILTIN.items()}


def style_classes(data: bytes) -> list[str]:
    """The format class of each cell style (cellXfs index)."""
    return [f.style for f in number_formats(data)]


_CELL = _tag(b"c")
_ROW = _tag(b"row")
_F = re.compile(rb"<" + _NS + rb"f" + _END)
_V = _tag(b"v")
_IS = _tag(b"is")
_REF = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")
_SHEET_DATA = re.compile(rb"<" + _NS + rb"sheetData" + _END + _IN_TAG + rb"(?:/>|>(.*)</" + _NS + rb"sheetData\s*>)", re.S)


def column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


# The cell as Excel, LibreOffice, openpyxl and xlsxwriter all write it: r, then s, then t.
_FAST_CELL = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="([0-9]{1,6})")?(?: t="([a-zA-Z]{1,9})")?'
                        rb"\s*(?:/>|>(.*?)</c>)", re.S)
_FAST_V = re.compile(rb"<v>([^<]*)</v>")
_PLAIN_IS = re.compile(rb"<is><t( xml:space=\"preserve\")?>([^<]*)</t></is>")
Formats = list[NumberFormat]


def sheet_cells(data: bytes, strings: SharedStrings | list[str], styles: Formats) -> Cells:
    """Every cell that holds something; cells without a reference follow the previous one.
    `data` is a worksheet in the plain form (plain_xml)."""
    m = _SHEET_DATA.search(data)
    body = (m.group(1) or b"") if m else b""
    if not body or m is None:
        return {}
    cells = _fast_cells(body, strings, styles)
    if cells is None:
        cells = _general_cells(body, strings, styles)
    if b"mergeCell" in data[m.end():]:
        _drop_covered(cells, data[m.end():])
    return cells


def _general_cells(body: bytes, strings: SharedStrings | list[str], styles: Formats) -> Cells:
    cells: Cells = {}
    row_no = 0
    for row in _ROW.finditer(body):
        r = _attrs(row.group(1)).get("r", "")
        row_no = int(r) if r.isascii() and r.isdigit() else row_no + 1
        col_no = 0
        for c in _CELL.finditer(row.group(2) or b""):
            attrs = _attrs(c.group(1))
            ref = _REF.match(attrs.get("r", ""))
            if ref:
                col_no, row_no = column_index(ref.group(1)), int(ref.group(2))
            else:  # writers may omit r: the cell follows the previous one
                col_no += 1
            if not (0 < row_no <= MAX_ROW and col_no <= MAX_COLUMN):  # Excel limits: no such cell exists
                continue
            cell = _cell(attrs, c.group(2), strings, styles)
            if cell is not None:
                cells[(row_no, col_no)] = cell
                if len(cells) > MAX_CELLS:
                    raise Refused("too-large", f"1 シートに {MAX_CELLS:,} 個を超えるセルがあります")
    return cells


_MERGE = _tag(b"mergeCell", body=False)
_RANGE = re.compile(r"^([A-Z]{1,3})([0-9]{1,7}):([A-Z]{1,3})([0-9]{1,7})$")
MAX_MERGE_WORK = 5_000_000  # cells looked at to apply the merges of one sheet


def _drop_covered(cells: Cells, rest: bytes) -> None:
    """Of merged cells Excel shows the first (top left) only; the others show nothing, whatever
    they hold (LibreOffice keeps them when asked to, a hand-made file may have them)."""
    work = 0
    for found in _MERGE.finditer(rest):
        ref = _RANGE.match(_attrs(found.group(1)).get("ref", "").replace("$", ""))
        if ref is None:
            continue
        top, left = int(ref.group(2)), column_index(ref.group(1))
        bottom, right = int(ref.group(4)), column_index(ref.group(3))
        area = (bottom - top + 1) * (right - left + 1)
        work += min(area, len(cells))
        if work > MAX_MERGE_WORK:
            raise Refused("too-large", "結合セルの範囲が大きすぎます")
        if area <= len(cells):
            covered = [(r, c) for r in range(top, bottom + 1) for c in range(left, right + 1)]
        else:
            covered = [k for k in cells if top <= k[0] <= bottom and left <= k[1] <= right]
        for key in covered:
            if key != (top, left):
                cells.pop(key, None)


def _fast_cells(body: bytes, strings: SharedStrings | list[str], styles: Formats) -> Cells | None:
    """One pass over cells written in the common attribute order; None when any cell is not
    (another order, more attributes), and the general parser reads the sheet."""
    found = _FAST_CELL.findall(body)
    # every cell's tag begins "<c"; of the other elements in sheetData only a rich text run's
    # <color>, <charset> and <condense> do too (a cell written otherwise, <c\nr=…>, is counted)
    if len(found) != body.count(b"<c") - body.count(b"<co") - body.count(b"<ch"):
        return None
    if len(found) > MAX_CELLS:
        raise Refused("too-large", f"1 シートに {MAX_CELLS:,} 個を超えるセルがあります")
    cells: Cells = {}
    letters: dict[bytes, int] = {}
    texts = _text_styles(styles)
    for col, row, s, t, inner in found:
        if not inner:
            continue
        c = letters.get(col)
        if c is None:
            c = letters[col] = column_index(col.decode("ascii"))
        r = int(row)
        if not 0 < r <= MAX_ROW or c > MAX_COLUMN:  # row 0: no such cell
            continue
        if t == b"inlineStr":
            plain = _PLAIN_IS.fullmatch(inner)
            if plain is not None:  # openpyxl's way to write text: one run, no furigana
                text = xml_text(plain.group(2))
                if plain.group(1) is None:  # see t_text
                    text = text.strip(_EDGE_SPACE)
                cells[(r, c)] = RawCell(decode_escapes(text), "s", False, "",
                                        styles[int(s)].code if s in texts else "")
                continue
        if not (inner.startswith(b"<v>") and inner.endswith(b"</v>") and inner.count(b"<") == 2):
            # a formula, rich inline text or anything unusual: the general cell reader
            attrs = {"t": t.decode("ascii")} if t else {}
            if s:
                attrs["s"] = s.decode("ascii")
            cell = _cell(attrs, inner, strings, styles)
            if cell is not None:
                cells[(r, c)] = cell
            continue
        v = _FAST_V.match(inner)
        if v is None or not v.group(1):  # <v></v> holds nothing, as in the general reader
            continue
        value = v.group(1)
        if t == b"s":
            cell = _shared(strings, value, False)
            cells[(r, c)] = cell._replace(format=styles[int(s)].code) if s in texts and cell.kind == "s" else cell
        elif not t or t == b"n":
            number = _number(value)
            if number is None:
                cells[(r, c)] = RawCell(xml_text(value), "s")
                continue
            si = int(s) if s else 0
            f = styles[si] if si < len(styles) else GENERAL
            cells[(r, c)] = RawCell(number, "n", False, f.style, f.code)
        else:
            attrs = {"t": t.decode("ascii")}
            if s:
                attrs["s"] = s.decode("ascii")
            cell = _cell(attrs, inner, strings, styles)
            if cell is not None:
                cells[(r, c)] = cell
    return cells


def _number(value: str | bytes) -> float | None:
    """A cell's number as XML Schema writes a double, in ASCII digits: float() alone would also
    take 「１２」, 「1_000」, 「inf」 and 「nan」, which no spreadsheet shows as a number."""
    try:
        number = float(value)
    except ValueError:
        return None
    if not value.isascii() or "_" in (value if isinstance(value, str) else value.decode("ascii")) \
            or number != number or number in (_INF, -_INF):
        return None
    return number


_INF = float("inf")


def _text_styles(styles: Formats) -> set[bytes]:
    """The style numbers (as in s="…") whose format shows text otherwise than typed: rare."""
    return {str(i).encode() for i, f in enumerate(styles) if f.text}


def _shared(strings: SharedStrings | list[str], index: str | bytes, formula: bool) -> RawCell:
    """A shared-string cell. A dangling index is an error cell; a string whose XML is broken
    makes the file corrupt (ValueError from xml_text), as it does for an XML parser."""
    text = index.strip(" \t\n\r") if isinstance(index, str) else index.strip(b" \t\n\r").decode("ascii", "replace")
    if not (text.isascii() and text.isdigit()):
        return RawCell("#REF!", "e", formula)
    i = int(text)
    try:
        return RawCell(strings[i], "s", formula)
    except IndexError:
        return RawCell("#REF!", "e", formula)  # a dangling shared-string index


def _cell(attrs: dict[str, str], body: bytes | None, strings: SharedStrings | list[str],
          styles: Formats) -> RawCell | None:
    cell = _value(attrs, body, strings, styles)
    if cell is not None and cell.kind == "s" and isinstance(cell.value, str):
        s = attrs.get("s", "")
        found = styles[int(s)] if s.isascii() and s.isdigit() and int(s) < len(styles) else GENERAL
        if found.text:  # the text shows through its format's text section
            return cell._replace(format=found.code)
    return cell


def _value(attrs: dict[str, str], body: bytes | None, strings: SharedStrings | list[str],
           styles: Formats) -> RawCell | None:
    t = attrs.get("t")  # absent: a number
    formula = body is not None and _F.search(body) is not None
    if t == "inlineStr":
        m = _IS.search(body) if body else None
        if m is None:
            return RawCell(None, "s", True) if formula else None
        return RawCell(rich_text(m.group(2)), "s", formula)
    vm = _V.search(body) if body else None
    # <v></v> and <v/> hold nothing, as an element tree's None text: a formula never calculated
    v = xml_text(vm.group(2)) if vm and vm.group(2) else None
    if v is None:
        return RawCell(None, "s", True) if formula else None
    if t == "s":
        return _shared(strings, v, formula)
    if t == "str":
        return RawCell(decode_escapes(v), "s", formula)
    if t == "b":
        return RawCell(v.strip() in ("1", "true"), "b", formula)
    if t == "e":
        return RawCell(v, "e", formula)
    if t == "d":
        return RawCell(v, "d", formula)
    number = _number(v)
    if number is None:
        return RawCell(v, "s", formula)
    s = attrs.get("s", "")
    f = styles[int(s)] if s.isascii() and s.isdigit() and int(s) < len(styles) else GENERAL
    return RawCell(number, "n", formula, f.style, f.code)


_WB_PR = _tag(b"workbookPr", body=False)
_SHEET = _tag(b"sheet", body=False)
_PROPERTY = _tag(b"property")
_INNER = re.compile(rb"<[^\s/>]+" + _IN_TAG + rb">([^<]*)<")  # the text of the first element
_MODIFIED = re.compile(rb"<" + _NS + rb"modified" + _END + _IN_TAG + rb">([^<]*)<")
_APPLICATION = re.compile(rb"<" + _NS + rb"Application" + _END + _IN_TAG + rb">([^<]*)<")


class _Workbook:
    def __init__(self, package: _Package, main: str, result: RawWorkbook):
        self.package, self.main, self.result = package, main, result

    def read(self, want: tuple[str, ...]) -> None:
        p, result = self.package, self.result
        data = p.xml(self.main)
        pr = _WB_PR.search(data)
        if pr:
            result.date1904 = _attrs(pr.group(1)).get("date1904", "0").lower() in ("1", "true")
        related = p.relationships(self.main)
        rels = {rid: (kind, target) for rid, kind, target in related if rid}
        targets: dict[str, str] = {}
        for m in _SHEET.finditer(data):
            a = _attrs(m.group(1))
            name = a.get("name", "")
            result.sheets.append((name, a.get("state", "visible")))
            rel = rels.get(a.get("r:id", ""))  # a sheet without r:id names no part
            part = p.find(rel[1]) if rel else None
            if part:
                targets[name] = part
        if not result.sheets:
            raise Refused("corrupt", "ブックにシートがありません")
        if len({n.casefold() for n, _s in result.sheets}) != len(result.sheets):
            # Excel refuses two sheets whose names differ at most in case: which one it would
            # show is not for a reader to guess
            raise Refused("corrupt", "同じ名前のシートが複数あります")
        strings: SharedStrings | list[str] = []
        styles: Formats = []
        for _rid, kind, target in related:  # the tables are found by type, with or without an Id
            part = p.find(target)
            if part and kind.endswith("/sharedStrings"):
                strings = SharedStrings(p.xml(part, "strings"))
            elif part and kind.endswith("/styles"):
                styles = number_formats(p.xml(part, "styles"))
        self.properties()
        wanted = [n for n in want if n != FIRST_SHEET]
        if FIRST_SHEET in want and result.first_sheet():
            wanted.append(result.first_sheet() or "")
        if ID_SHEET in targets:
            result.cells[ID_SHEET] = sheet_cells(p.xml(targets[ID_SHEET], "sheet"), strings, styles)
        by_fold = {n.casefold(): n for n in targets}
        for name in wanted:
            actual = name if name in targets else by_fold.get(name.casefold())
            if actual and actual not in result.cells:
                result.cells[actual] = sheet_cells(p.xml(targets[actual], "sheet"), strings, styles)

    def properties(self) -> None:
        p, result = self.package, self.result
        found = {kind.rsplit("/", 1)[-1]: target for _i, kind, target in p.relationships("")}
        custom = p.find(found.get("custom-properties", "docProps/custom.xml"))
        if custom:
            for prop in _PROPERTY.finditer(p.xml(custom)):
                key = _attrs(prop.group(1)).get("name")
                inner = _INNER.search(prop.group(2) or b"")
                if key and inner:
                    result.custom.setdefault(key, xml_text(inner.group(1)))
        core = p.find(found.get("core-properties", "docProps/core.xml"))
        if core:
            when = _MODIFIED.search(p.xml(core))
            if when:
                result.modified = xml_text(when.group(1)).strip()
        app = p.find(found.get("extended-properties", "docProps/app.xml"))
        if app:
            name = _APPLICATION.search(p.part(app))
            if name:
                result.application = xml_text(name.group(1)).strip()[:100]

