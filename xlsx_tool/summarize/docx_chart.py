"""The report's pie as a native Word chart: a DrawingML chart part with its data embedded.

python-docx has no chart API (its issue 179). A Word chart is the same `c:chartSpace` part an
Excel chart is, related from the document, plus an embedded workbook holding its data (what
Word opens on 「データの編集」). XlsxWriter already writes valid, Excel-tested chart XML: the
pie is built as an XlsxWriter chart over a data sheet, its chart part taken from that
workbook and pointed at the embedded copy of the data (`c:externalData`). The labels
(「【A】, 24施策, 59%」) are formulas over the counts in the embedded sheet, so an edited count
updates its label once Word recalculates; a zero share has no label, as in the report.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from xlsx_tool.summarize.report import Chart
from xlsx_tool.xlsxout import close_to_bytes, new_workbook, ok, write_text

SHEET = "データ"
WIDTH_PX, HEIGHT_PX = 520, 330  # about 13.8 × 8.7 cm: the width of the tables above it
COLOURS = ["#2E75B6", "#70AD47", "#FFC000", "#ED7D31", "#A5A5A5", "#7F7F7F", "#C00000"]
UNANSWERED_COLOUR = "#D9D9D9"
FONT = "ＭＳ ゴシック"


@dataclass(frozen=True)
class ChartParts:
    chart_xml: bytes  # the c:chartSpace part, its external data relationship still to be named
    workbook: bytes  # the embedded data (an .xlsx)


def _data_sheet(wb: object, chart: Chart) -> object:
    """評価 | 該当施策 | 割合 | ラベル: counts as numbers, shares and labels as formulas."""
    from xlsx_tool.summarize.workbook import share_formula

    ws = wb.add_worksheet(SHEET)  # type: ignore[attr-defined]
    percent = wb.add_format({"num_format": "0%"})  # type: ignore[attr-defined]
    for c, h in enumerate(("評価", "該当施策", "割合", "ラベル")):
        write_text(ws, 0, c, h)
    n = len(chart.values)
    total = f"$B${n + 2}"
    for i, (value, count, share, label) in enumerate(
            zip(chart.values, chart.counts, chart.percents, chart.labels, strict=True)):
        r = i + 1
        write_text(ws, r, 0, value)
        ok(ws.write_number(r, 1, count), "chart data")
        ok(ws.write_formula(r, 2, share_formula("B", 2, n + 1, r + 1, total), percent, share / 100), "chart data")
        # Zero shares get no label in the chart (the data label is deleted), the text stays here.
        shown = label or f"【{value}】, {count}施策, {share}%"
        ok(ws.write_formula(r, 3, f'="【"&A{r + 1}&"】, "&B{r + 1}&"施策, "&TEXT(C{r + 1},"0%")', None, shown),
           "chart data")
    write_text(ws, n + 1, 0, "計")
    ok(ws.write_formula(n + 1, 1, f"=SUM(B2:B{n + 1})", None, sum(chart.counts)), "chart data")
    ws.set_column(0, 0, 10)
    ws.set_column(3, 3, 26)
    return ws


def _colour(value: str, index: int) -> str:
    return UNANSWERED_COLOUR if value == "未回答" else COLOURS[index % len(COLOURS)]


def chart_parts(chart: Chart) -> ChartParts:
    n = len(chart.values)
    # The data alone: what Word embeds and opens on 「データの編集」.
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    _data_sheet(wb, chart)
    data = close_to_bytes(wb, buffer)
    # The same data with the pie on it: XlsxWriter writes the chart part, which is taken out.
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    ws = _data_sheet(wb, chart)
    pie = wb.add_chart({"type": "pie"})
    font = {"name": FONT, "size": 10}
    pie.add_series({
        "name": chart.title,
        "categories": [SHEET, 1, 3, n, 3],
        "values": [SHEET, 1, 1, n, 1],
        "data_labels": {"category": True, "position": "outside_end", "leader_lines": True, "font": font,
                        "custom": [{"delete": True} if not label else None for label in chart.labels]},
        "points": [{"fill": {"color": _colour(v, i)}, "border": {"color": "#FFFFFF"}}
                   for i, v in enumerate(chart.values)],
    })
    pie.set_title({"name": chart.title, "name_font": {"name": FONT, "size": 11, "bold": True}, "overlay": False})
    pie.set_legend({"none": True})
    pie.set_chartarea({"border": {"none": True}})
    pie.set_size({"width": WIDTH_PX, "height": HEIGHT_PX})
    ok(ws.insert_chart(0, 5, pie), "chart")  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(close_to_bytes(wb, buffer))) as z:
        xml = z.read("xl/charts/chart1.xml").decode("utf-8")
    # A Japanese report: the chart's language (XlsxWriter writes en-US) and East Asian font.
    xml = xml.replace('<c:lang val="en-US"/>', '<c:lang val="ja-JP"/>')
    xml = re.sub(r'<a:latin typeface="([^"]+)"([^/]*)/>', r'<a:latin typeface="\1"\2/><a:ea typeface="\1"/>', xml)
    xml = xml.replace('lang="en-US"', 'lang="ja-JP"')
    # Only the category (our label text) is shown. XlsxWriter leaves the other flags out; an
    # absent flag is read as "shown" by LibreOffice for files it takes to be from Office 2007
    # (it printed 「【A】, 24施策, 59%; 事業数; 24; 59%」), so every flag is written.
    xml = xml.replace('<c:showCatName val="1"/>',
                      '<c:showLegendKey val="0"/><c:showVal val="0"/><c:showCatName val="1"/>'
                      '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/>')
    return ChartParts(xml.encode("utf-8"), data)


def with_external_data(chart_xml: bytes, rel_id: str) -> bytes:
    """Point the chart at its embedded workbook: c:externalData goes after c:txPr / c:spPr and
    before c:printSettings in c:chartSpace (ECMA-376 CT_ChartSpace's sequence)."""
    xml = chart_xml.decode("utf-8")
    element = f'<c:externalData r:id="{rel_id}"><c:autoUpdate val="0"/></c:externalData>'
    if "xmlns:r=" not in xml[:600]:
        xml = xml.replace("<c:chartSpace ", '<c:chartSpace xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
                                            '2006/relationships" ', 1)
    if "<c:printSettings>" in xml:
        xml = xml.replace("<c:printSettings>", element + "<c:printSettings>", 1)
    else:
        xml = xml.replace("</c:chartSpace>", element + "</c:chartSpace>", 1)
    return xml.encode("utf-8")
