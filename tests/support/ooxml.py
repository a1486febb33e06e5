"""Hand-built SpreadsheetML packages for reader tests.

Every part is written out explicitly, so a fixture shows exactly the XML a case is about
(shared strings with rich text and furigana, `_xHHHH_` escapes, inline strings, error and
formula cells, number formats, parts under unusual names, Strict OOXML namespaces) and no
test depends on how a library happens to serialise.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"


@dataclass
class Sheet:
    name: str
    rows: str  # the <row> elements, as XML text
    state: str = "visible"
    tail: str = ""  # what follows <sheetData> (<mergeCells>…), as XML text


@dataclass
class Package:
    sheets: list[Sheet]
    shared: list[str] = field(default_factory=list)  # <si> bodies, as XML text
    num_fmts: dict[int, str] = field(default_factory=dict)  # custom formats id -> code
    xfs: list[int] = field(default_factory=lambda: [0])  # numFmtId per cell style
    workbook_name: str = "xl/workbook.xml"
    strings_name: str = "xl/sharedStrings.xml"
    styles_name: str = "xl/styles.xml"
    sheet_dir: str = "xl/worksheets"
    strict: bool = False
    prefix: str = ""  # an element prefix such as "x:" (some .NET writers)
    custom: dict[str, str] = field(default_factory=dict)
    date1904: bool = False
    root_attrs: str = ""  # more on each worksheet's root: xmlns:foo="…" mc:Ignorable="foo"

    def build(self) -> bytes:
        main = STRICT_MAIN if self.strict else MAIN
        rel = STRICT_REL if self.strict else REL
        p = self.prefix
        ns = f'xmlns{":" + p[:-1] if p else ""}="{main}" xmlns:r="{rel}"'
        wb_dir = self.workbook_name.rsplit("/", 1)[0]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            overrides = [(self.workbook_name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")]
            z.writestr("_rels/.rels", _rels([("rId1", f"{rel}/officeDocument", self.workbook_name)]
                                            + ([("rId2", f"{rel}/custom-properties", "docProps/custom.xml")]
                                               if self.custom else [])))
            rels, sheets_xml = [], []
            for i, sh in enumerate(self.sheets, 1):
                target = f"{self.sheet_dir}/s{i}.xml"
                rels.append((f"rId{i}", f"{rel}/worksheet", _relative(target, wb_dir)))
                state = f' state="{sh.state}"' if sh.state != "visible" else ""
                sheets_xml.append(f'<{p}sheet name="{escape(sh.name)}" sheetId="{i}"{state} r:id="rId{i}"/>')
                z.writestr(target, f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {ns}{self.root_attrs}>'
                                   f"<{p}sheetData>{sh.rows}</{p}sheetData>{sh.tail}</{p}worksheet>")
                overrides.append((target, "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"))
            n = len(self.sheets)
            rels.append((f"rId{n + 1}", f"{rel}/sharedStrings", _relative(self.strings_name, wb_dir)))
            rels.append((f"rId{n + 2}", f"{rel}/styles", _relative(self.styles_name, wb_dir)))
            pr = f'<{p}workbookPr date1904="1"/>' if self.date1904 else ""
            z.writestr(self.workbook_name, f'<?xml version="1.0" encoding="UTF-8"?><{p}workbook {ns}>{pr}'
                                           f'<{p}sheets>{"".join(sheets_xml)}</{p}sheets></{p}workbook>')
            folder, base = self.workbook_name.rsplit("/", 1)
            z.writestr(f"{folder}/_rels/{base}.rels", _rels(rels))
            z.writestr(self.strings_name, f'<?xml version="1.0" encoding="UTF-8"?><{p}sst {ns} count="{len(self.shared)}">'
                                          + "".join(f"<{p}si>{s}</{p}si>" for s in self.shared) + f"</{p}sst>")
            fmts = "".join(f'<{p}numFmt numFmtId="{k}" formatCode="{escape(v, {chr(34): "&quot;"})}"/>'
                           for k, v in self.num_fmts.items())
            z.writestr(self.styles_name, f'<?xml version="1.0" encoding="UTF-8"?><{p}styleSheet {ns}>'
                                         f'<{p}numFmts count="{len(self.num_fmts)}">{fmts}</{p}numFmts>'
                                         f'<{p}cellXfs count="{len(self.xfs)}">'
                                         + "".join(f'<{p}xf numFmtId="{x}" fontId="0" fillId="0" borderId="0"/>' for x in self.xfs)
                                         + f"</{p}cellXfs></{p}styleSheet>")
            if self.custom:
                props = "".join(f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i}" name="{k}">'
                                f"<vt:lpwstr>{escape(v)}</vt:lpwstr></property>"
                                for i, (k, v) in enumerate(self.custom.items(), 2))
                z.writestr("docProps/custom.xml", '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://'
                           'schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://schemas'
                           f'.openxmlformats.org/officeDocument/2006/docPropsVTypes">{props}</Properties>')
            z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                       'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="'
                       'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                       'ContentType="application/xml"/>'
                       + "".join(f'<Override PartName="/{name}" ContentType="{kind}"/>' for name, kind in overrides)
                       + "</Types>")
        return out.getvalue()


def _relative(target: str, folder: str) -> str:
    return target[len(folder) + 1:] if target.startswith(folder + "/") else "/" + target


def _rels(rels: list[tuple[str, str, str]]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{escape(target)}"/>' for i, t, target in rels)
    return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">{body}</Relationships>'


def row(r: int, *cells: str) -> str:
    return f'<row r="{r}">{"".join(cells)}</row>'


def s(ref: str, index: int, style: int | None = None) -> str:
    return f'<c r="{ref}" t="s"{_s(style)}><v>{index}</v></c>'


def n(ref: str, value: str, style: int | None = None) -> str:
    return f'<c r="{ref}"{_s(style)}><v>{value}</v></c>'


def inline(ref: str, body: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is>{body}</is></c>'


def _s(style: int | None) -> str:
    return f' s="{style}"' if style is not None else ""
