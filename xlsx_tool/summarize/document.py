"""The published report as a Word document (3_集計/実績報告書.docx), from the report model.

Written with python-docx: headings, paragraphs, Word tables (header row repeated, borders,
widths that fit A4 portrait) and the pie as a native chart (docx_chart.py). Each placeholder
is highlighted and carries a Word comment with what the writer needs, so the clerk only has
to write the highlighted parts.

The look: `[report] template = "報告書ひな形.docx"` names a Word file the section styles once;
its styles, margins, header and footer are used (its body text is not), as pandoc's
reference document works. Without one: A4 portrait, a Mincho body and Gothic headings, page
numbers in the footer. Headings, table titles and 「＜主な成果＞」 are kept with what follows,
so none ends a page alone.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Emu, Mm, Pt, RGBColor

from xlsx_tool import problems as P
from xlsx_tool.define.survey import Survey
from xlsx_tool.problems import Problem
from xlsx_tool.summarize.docx_chart import HEIGHT_PX, WIDTH_PX, chart_parts, with_external_data
from xlsx_tool.summarize.report import Chart, Paragraph, Report, Table
from xlsx_tool.summarize.wording import Placeholder

MINCHO, GOTHIC = "ＭＳ 明朝", "ＭＳ ゴシック"  # on every Japanese Windows
TEXT_WIDTH_MM = 160.0  # A4 (210 mm) less 25 mm margins: what the model's table widths add up to
BODY, ITEM = "報告書本文", "報告書箇条書き"  # our paragraph styles, created when a template lacks them
AUTHOR, INITIALS = "xlsx-tool", "XT"
TEMPLATE_MAX_BYTES = 30 * 1024 * 1024
ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}
HEADER_FILL, TOTAL_FILL = "DDEBF7", "F2F2F2"


# --- the section's template ---------------------------------------------------------------

def template_problems(survey: Survey) -> list[Problem]:
    """What is wrong with [report] template (check says it; summarize then works without it)."""
    return _open_template(survey)[1]


def _open_template(survey: Survey) -> tuple[Any, list[Problem]]:
    name = survey.report_template
    if not name:
        return None, []
    path = survey.path(name)
    if not path.is_file():
        return None, [P.make("report-template-missing", file="survey.toml", value=name)]
    detail = _package_problem(path)
    if detail is None:
        try:
            return Document(str(path)), []
        except Exception:  # python-docx raises what lxml and zipfile raise: the file is not a usable .docx
            detail = "Word 文書の中身が壊れているか、別の形式です"
    return None, [P.make("report-template-unreadable", file="survey.toml", value=name, detail=detail)]


def _package_problem(path: Path) -> str | None:
    """Pre-flight for the template: a zip of reasonable size holding a Word document."""
    try:
        if path.stat().st_size > TEMPLATE_MAX_BYTES:
            return "30MB を超えています"
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if "word/document.xml" not in names:
                return "Word 文書（.docx）ではありません"
            if sum(i.file_size for i in z.infolist()) > 10 * TEMPLATE_MAX_BYTES:
                return "展開後のサイズが大きすぎます"
    except (OSError, zipfile.BadZipFile):
        return "Word 文書（.docx）として開けません（暗号化されているか、別の形式です）"
    return None


# --- the document -------------------------------------------------------------------------

def report_document(survey: Survey, report: Report) -> tuple[bytes, list[Problem]]:
    """The report as .docx bytes, and what was wrong with the template (then not used)."""
    doc, notes = _open_template(survey)
    own = doc is None
    if own:
        doc = Document()
        _own_look(doc)
    else:
        _clear_body(doc)
        _add_missing_styles(doc)
    _fix_settings(doc)
    _DocumentWriter(doc).write(report)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = report.title, AUTHOR, AUTHOR
    props.created = props.modified = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    props.revision, props.comments, props.subject, props.keywords = 1, "", survey.title, ""
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue(), notes


def _east_asian(element: Any, font: str) -> None:
    """Set the fonts of a style's or a run's rPr, the East Asian one included (python-docx sets
    only the Latin ones)."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def _own_look(doc: Any) -> None:
    """A4 portrait, Mincho body, Gothic headings, page numbers: the look without a template."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin, section.bottom_margin = Mm(25), Mm(22)
    section.header_distance, section.footer_distance = Mm(12), Mm(10)
    # Document defaults: Japanese, 10.5 pt (the Japanese office default), single spacing.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), MINCHO)
    rpr.find(qn("w:sz")).set(qn("w:val"), "21")
    rpr.find(qn("w:szCs")).set(qn("w:val"), "21")
    lang = rpr.find(qn("w:lang"))
    lang.set(qn("w:val"), "ja-JP")
    lang.set(qn("w:eastAsia"), "ja-JP")
    spacing = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "300")
    styles = doc.styles
    normal = styles["Normal"]
    _east_asian(normal.element, MINCHO)
    normal.font.size = Pt(10.5)
    for name, size, before, after, align in (("Title", 14, 0, 12, WD_ALIGN_PARAGRAPH.CENTER),
                                             ("Heading 1", 12, 14, 6, None), ("Heading 2", 10.5, 10, 4, None),
                                             ("Caption", 10.5, 10, 4, WD_ALIGN_PARAGRAPH.CENTER)):
        style = styles[name]
        _east_asian(style.element, GOTHIC)
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        pf = style.paragraph_format
        pf.space_before, pf.space_after = Pt(before), Pt(after)
        pf.keep_with_next = True
        pf.alignment = align
        pf.line_spacing = 1.15
        # The default template's Title has a bottom border and theme fonts: plain, as the reports.
        ppr = style.element.pPr
        if ppr is not None and ppr.find(qn("w:pBdr")) is not None:
            ppr.remove(ppr.find(qn("w:pBdr")))
    _add_missing_styles(doc)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.paragraph_format.first_line_indent = 0
    footer._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))


def _add_missing_styles(doc: Any) -> None:
    """Our body and list styles, and any heading style a template lacks (a Word file holds a
    built-in style only once it has been used)."""
    from docx.enum.style import WD_STYLE_TYPE

    styles = doc.styles
    names = {s.name for s in styles}
    for name, size in (("Title", 14), ("Heading 1", 12), ("Heading 2", 10.5), ("Caption", 10.5)):
        if name not in names:
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = styles["Normal"]
            style.font.size, style.font.bold = Pt(size), True
            style.paragraph_format.keep_with_next = True
            style.paragraph_format.space_before = Pt(8)
            style.paragraph_format.space_after = Pt(4)
    if BODY not in names:
        body = styles.add_style(BODY, WD_STYLE_TYPE.PARAGRAPH)
        body.base_style = styles["Normal"]
        body.paragraph_format.first_line_indent = Pt(10.5)  # a Japanese paragraph starts one character in
        body.paragraph_format.space_after = Pt(4)
    if ITEM not in names:
        item = styles.add_style(ITEM, WD_STYLE_TYPE.PARAGRAPH)
        item.base_style = styles["Normal"]
        item.paragraph_format.left_indent = Pt(21)  # wrapped lines align after 「・」
        item.paragraph_format.first_line_indent = Pt(-10.5)


def _clear_body(doc: Any) -> None:
    """The template's own text goes; its last section properties (page, header, footer) stay."""
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def _fix_settings(doc: Any) -> None:
    """python-docx's default settings carry <w:zoom w:val="bestFit"/> without the w:percent
    ECMA-376 requires; Word reads both, a schema check does not."""
    zoom = doc.settings.element.find(qn("w:zoom"))
    if zoom is not None and zoom.get(qn("w:percent")) is None:
        zoom.set(qn("w:percent"), "100")


class _DocumentWriter:
    def __init__(self, doc: Any):
        self.doc = doc
        section = doc.sections[-1]
        width = (section.page_width - section.left_margin - section.right_margin) if section.page_width else Mm(160)
        self.scale = min(1.0, Emu(width).mm / TEXT_WIDTH_MM)
        self.charts = 0

    def write(self, report: Report) -> None:
        for section in report.sections:
            if section.heading is not None:
                style = {0: "Title", 1: "Heading 1", 2: "Heading 2"}[section.level]
                p = self.paragraph(section.heading, style)
                p.paragraph_format.keep_with_next = True
            for block in section.blocks:
                if isinstance(block, Paragraph):
                    self.block_paragraph(block)
                elif isinstance(block, Table):
                    self.table(block)
                elif isinstance(block, Chart):
                    self.chart(block)

    def block_paragraph(self, block: Paragraph) -> Any:
        style = {"caption": "Caption", "item": ITEM, "label": "Normal"}.get(block.style, BODY)
        p = self.paragraph(block, style)
        if block.style in ("caption", "label"):
            p.paragraph_format.keep_with_next = True
        if block.style == "label":
            p.paragraph_format.space_before = Pt(6)
        return p

    def paragraph(self, para: Paragraph, style: str) -> Any:
        p = self.doc.add_paragraph(style=style)
        for run in para.runs:
            if isinstance(run, Placeholder):
                r = p.add_run(run.text)
                r.font.highlight_color = WD_COLOR_INDEX.YELLOW
                if run.help:
                    first, *rest = run.help.split("\n")
                    comment = self.doc.add_comment(r, text=first, author=AUTHOR, initials=INITIALS)
                    for line in rest:
                        comment.add_paragraph(line)
            else:
                p.add_run(run)
        return p

    # --- tables -------------------------------------------------------------------------
    def table(self, t: Table) -> None:
        n_head = len(t.header)
        table = self.doc.add_table(rows=n_head + len(t.rows), cols=t.columns)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _table_borders(table)
        widths = [Mm(w * self.scale) for w in t.widths]
        for c, col in enumerate(table.columns):
            col.width = widths[c]
        for row in table.rows:
            for c, cell in enumerate(row.cells):
                cell.width = widths[c]
        # Header: cells spanning columns and rows merged, repeated on every page.
        covered: set[tuple[int, int]] = set()
        for r, cells in enumerate(t.header):
            c = 0
            for h in cells:
                while (r, c) in covered:
                    c += 1
                cell = table.cell(r, c)
                end = table.cell(r + h.rows - 1, c + h.span - 1)
                if (h.rows, h.span) != (1, 1):
                    cell = cell.merge(end)
                for rr in range(r, r + h.rows):
                    for cc in range(c, c + h.span):
                        covered.add((rr, cc))
                self.cell_text(cell, h.text, WD_ALIGN_PARAGRAPH.CENTER, bold=True)
                _shade(cell, HEADER_FILL)
                c += h.span
        for r in range(n_head):
            _row_flags(table.rows[r], header=True)
        for i, values in enumerate(t.rows):
            row = table.rows[n_head + i]
            total = i >= len(t.rows) - t.totals
            _row_flags(row, header=False)
            for c, value in enumerate(values):
                cell = row.cells[c]
                self.cell_text(cell, value, ALIGN[t.align[c]] if not total or c else WD_ALIGN_PARAGRAPH.CENTER,
                               bold=total)
                if total:
                    _shade(cell, TOTAL_FILL)
        # A short table is kept on one page: every row's paragraphs keep with the next row.
        if len(table.rows) <= 12:
            for row in table.rows[:-1]:
                for cell in row.cells:
                    for p in cell.paragraphs:
                        p.paragraph_format.keep_with_next = True
        self.doc.add_paragraph(style="Normal")  # the space after a table, as Word leaves it

    @staticmethod
    def cell_text(cell: Any, text: str, align: Any, bold: bool = False) -> None:
        p = cell.paragraphs[0]
        p.alignment = align
        p.paragraph_format.first_line_indent = 0
        for i, line in enumerate(text.split("\n")):
            run = p.add_run(line)
            run.font.size = Pt(10)
            run.bold = bold or None
            if i < len(text.split("\n")) - 1:
                run.add_break(WD_BREAK.LINE)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER

    # --- the chart ----------------------------------------------------------------------
    def chart(self, chart: Chart) -> None:
        parts = chart_parts(chart)
        package = self.doc.part.package
        data = Part(package.next_partname("/word/embeddings/Microsoft_Excel_Worksheet%d.xlsx"), CT.SML_SHEET,
                    parts.workbook, package)
        chart_part = _ChartPart(package.next_partname("/word/charts/chart%d.xml"), CT.DML_CHART, b"", package)
        chart_part.xml = with_external_data(parts.chart_xml, chart_part.relate_to(data, RT.PACKAGE))
        rel = self.doc.part.relate_to(chart_part, RT.CHART)
        ids = [int(x) for x in self.doc.element.body.xpath(".//wp:docPr/@id")] or [0]
        self.charts += 1
        cx, cy = Emu(int(WIDTH_PX * 9525 * self.scale)), Emu(int(HEIGHT_PX * 9525 * self.scale))
        labels = "、".join(label for label in chart.labels if label)
        inline = parse_xml(
            f'<wp:inline {nsdecls("wp", "a", "r")} distT="0" distB="0" distL="0" distR="0">'
            f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
            f'<wp:docPr id="{max(ids) + 1}" name="グラフ {self.charts}" descr="{_attr(chart.title + "：" + labels)}"/>'
            '<wp:cNvGraphicFramePr/>'
            '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
            f'<c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="{rel}"/>'
            '</a:graphicData></a:graphic></wp:inline>')
        p = self.doc.add_paragraph(style="Normal")
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        drawing = parse_xml(f'<w:drawing {nsdecls("w")}/>')
        drawing.append(inline)
        p.add_run()._r.append(drawing)


class _ChartPart(Part):
    """A chart part whose XML is set once its relationship to the embedded data has an id."""

    xml: bytes = b""

    @property
    def blob(self) -> bytes:
        return self.xml


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _table_borders(table: Any) -> None:
    """Single grey borders inside and out (set on the table: a template need not have 表 (格子))."""
    tbl_pr = table._tbl.tblPr
    edges = "".join(f'<w:{e} w:val="single" w:sz="4" w:space="0" w:color="808080"/>'
                    for e in ("top", "left", "bottom", "right", "insideH", "insideV"))
    borders = parse_xml(f'<w:tblBorders {nsdecls("w")}>{edges}</w:tblBorders>')
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                 "w:tblCaption", "w:tblDescription", "w:tblPrChange")
    margins = parse_xml(f'<w:tblCellMar {nsdecls("w")}><w:left w:w="85" w:type="dxa"/>'
                        '<w:right w:w="85" w:type="dxa"/></w:tblCellMar>')
    tbl_pr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")


def _shade(cell: Any, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = parse_xml(f'<w:shd {nsdecls("w")} w:val="clear" w:color="auto" w:fill="{fill}"/>')
    tc_pr.insert_element_before(shd, "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign",
                                "w:hideMark", "w:headers", "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange")


def _row_flags(row: Any, header: bool) -> None:
    """A row never splits across pages; header rows repeat at the top of every page."""
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(parse_xml(f'<w:cantSplit {nsdecls("w")}/>'))
    if header:
        tr_pr.append(parse_xml(f'<w:tblHeader {nsdecls("w")}/>'))
