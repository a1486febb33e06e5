"""The summary workbook (集計結果.xlsx): tally tables, all measures, charts, draft report text.

Counts are numbers in cells (the number format shows 「施策」); department text is always
written with write_string, so 「=HYPERLINK(…)」 typed by a department stays text.
"""

from __future__ import annotations

import io

from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Master
from xlsx_tool.define.survey import Survey
from xlsx_tool.summarize.report import report_lines
from xlsx_tool.summarize.tally import TREND_LABEL, UNANSWERED, Tally
from xlsx_tool.xlsxout import close_to_bytes, new_workbook, ok

COUNT_FORMAT = '0"施策"'
PERCENT_FORMAT = "0%"
# Rating colours in scale order (best first): green to red, greys for unranked/未回答.
PALETTE = ["#2E75B6", "#70AD47", "#FFC000", "#ED7D31", "#A5A5A5", "#7F7F7F", "#C00000"]

SHEET_RATINGS = "評価別集計表"
SHEET_DIRECTIONS = "方向性別集計表"
SHEET_CHANGES = "前年度比較"
SHEET_MEASURES = "全施策一覧"
SHEET_REPORT = "報告文案"


def group_sheet_name(survey: Survey) -> str:
    return f"{survey.group_label}別集計表"


def pie_label(value: str, count: int, percent: int) -> str:
    """「【A】, 24施策, 59%」 as the report labels its pie."""
    return f"【{value}】, {count}施策, {percent}%"


def summary_workbook(survey: Survey, master: Master, t: Tally) -> bytes:
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    w = _SummaryWriter(wb, survey, master, t)
    w.ratings()
    if t.directions:
        w.directions()
    w.groups()
    if t.changes or any(m.previous_rating for m in master.measures):
        w.changes()
    w.measures()
    w.report()
    wb.set_properties({"title": f"{survey.year_label} {survey.title} 集計結果", "author": "xlsx-tool"})
    return close_to_bytes(wb, buffer)


class _SummaryWriter:
    def __init__(self, wb, survey: Survey, master: Master, t: Tally):
        self.wb, self.survey, self.master, self.t = wb, survey, master, t
        base = {"border": 1, "valign": "vcenter"}
        f = wb.add_format
        self.f_title = f({"bold": True, "font_size": 13})
        self.f_head = f({**base, "bold": True, "bg_color": "#DDEBF7", "align": "center", "text_wrap": True})
        self.f_text = f({**base, "text_wrap": True})
        self.f_center = f({**base, "align": "center"})
        self.f_count = f({**base, "num_format": COUNT_FORMAT})
        self.f_plain_count = f({**base, "num_format": "0"})
        self.f_percent = f({**base, "num_format": PERCENT_FORMAT})
        self.f_total_label = f({**base, "bold": True, "align": "center", "bg_color": "#F2F2F2"})
        self.f_total_count = f({**base, "bold": True, "num_format": COUNT_FORMAT, "bg_color": "#F2F2F2"})
        self.f_total_plain = f({**base, "bold": True, "num_format": "0", "bg_color": "#F2F2F2"})
        self.f_total_percent = f({**base, "bold": True, "num_format": PERCENT_FORMAT, "bg_color": "#F2F2F2"})
        self.f_total_blank = f({**base, "bg_color": "#F2F2F2"})
        self.f_body = f({"text_wrap": True, "valign": "top"})
        self.f_heading = f({"bold": True, "font_size": 12})
        self.f_subheading = f({"bold": True})
        self.f_doc_title = f({"bold": True, "font_size": 14})

    def text(self, ws, r: int, c: int, value: object, fmt=None) -> None:
        ok(ws.write_string(r, c, "" if value is None else str(value), fmt), f"{ws.name} {r},{c}")

    def number(self, ws, r: int, c: int, value: float, fmt=None) -> None:
        ok(ws.write_number(r, c, value, fmt), f"{ws.name} {r},{c}")

    # 評価別集計表: 施策の評価 | 評価の内容 | 該当施策 | 割合, zero rows kept, 計 row; the pie.
    def ratings(self) -> None:
        s, t = self.survey, self.t
        ws = self.wb.add_worksheet(SHEET_RATINGS)
        ws.set_column(0, 0, 12)
        ws.set_column(1, 1, 60)
        ws.set_column(2, 3, 10)
        self.text(ws, 0, 0, f"{s.year_label}実績集計表", self.f_title)
        for c, h in enumerate(("施策の評価", "評価の内容", "該当施策", "割合")):
            self.text(ws, 2, c, h, self.f_head)
        first = 3
        for i, row in enumerate(t.ratings):
            r = first + i
            self.text(ws, r, 0, row.value, self.f_center)
            self.text(ws, r, 1, row.definition, self.f_text)
            ws.set_row(r, row_height(row.definition, 60))
            self.number(ws, r, 2, row.count, self.f_count)
            self.number(ws, r, 3, row.percent / 100, self.f_percent)
        last = first + len(t.ratings) - 1
        total = last + 1
        self.text(ws, total, 0, "計", self.f_total_label)
        self.text(ws, total, 1, "", self.f_total_blank)
        self.number(ws, total, 2, t.total, self.f_total_count)
        self.number(ws, total, 3, 1 if t.total else 0, self.f_total_percent)
        # The report's slice labels (「【A】, 24施策, 59%」) sit in a column the pie takes its
        # categories from: category labels render the same in Excel and LibreOffice, where
        # custom label strings do not. Zero shares get no label.
        ws.set_column(4, 4, 26)
        self.text(ws, 2, 4, "グラフ表示", self.f_head)
        for i, row in enumerate(t.ratings):
            self.text(ws, first + i, 4, pie_label(row.value, row.count, row.percent), self.f_text)
        chart = self.wb.add_chart({"type": "pie"})
        chart.add_series({
            "name": f"{s.year_label} 評価別",
            "categories": [SHEET_RATINGS, first, 4, last, 4],
            "values": [SHEET_RATINGS, first, 2, last, 2],
            "data_labels": {"category": True, "position": "outside_end", "leader_lines": True,
                            "custom": [{"delete": True} if row.count == 0 else None for row in t.ratings]},
            "points": [{"fill": {"color": self.colour(row.value)}} for row in t.ratings],
        })
        chart.set_title({"name": f"{s.year_label} 評価別の施策数"})
        chart.set_legend({"none": True})
        chart.set_size({"width": 620, "height": 400})
        ok(ws.insert_chart(total + 2, 0, chart, {"x_offset": 10, "y_offset": 10}), "pie")
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)

    def colour(self, value: str) -> str:
        if value == UNANSWERED:
            return "#D9D9D9"
        names = self.survey.rating_scale.names
        return PALETTE[names.index(value) % len(PALETTE)] if value in names else "#D9D9D9"

    # 方向性別集計表: 施策の方向性 | 該当施策 | 内訳, 計.
    def directions(self) -> None:
        t = self.t
        ws = self.wb.add_worksheet(SHEET_DIRECTIONS)
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 10)
        ws.set_column(2, 2, 40)
        self.text(ws, 0, 0, f"{self.survey.year_label} 方向性別集計表", self.f_title)
        for c, h in enumerate(("施策の方向性", "該当施策", "内訳")):
            self.text(ws, 2, c, h, self.f_head)
        for i, d in enumerate(t.directions):
            self.text(ws, 3 + i, 0, d.value, self.f_center)
            self.number(ws, 3 + i, 1, d.count, self.f_count)
            self.text(ws, 3 + i, 2, d.breakdown_text(), self.f_text)
        r = 3 + len(t.directions)
        self.text(ws, r, 0, "計", self.f_total_label)
        self.number(ws, r, 1, sum(d.count for d in t.directions), self.f_total_count)
        self.text(ws, r, 2, "", self.f_total_blank)

    # Group × rating, with row and column totals, the report's per-group lines and a stacked bar.
    def groups(self) -> None:
        s, t = self.survey, self.t
        name = group_sheet_name(s)
        ws = self.wb.add_worksheet(name)
        cats = list(t.categories)
        ws.set_column(0, 0, 10)
        ws.set_column(1, 1, 32)
        ws.set_column(2, 2 + len(cats), 9)
        self.text(ws, 0, 0, f"{s.group_label}別評価別件数（{s.year_label}）", self.f_title)
        headers = [s.group_label, "名称", "施策数", *cats]
        for c, h in enumerate(headers):
            self.text(ws, 2, c, h, self.f_head)
        first = 3
        for i, g in enumerate(t.groups):
            r = first + i
            self.text(ws, r, 0, g.id, self.f_center)
            self.text(ws, r, 1, g.name, self.f_text)
            self.number(ws, r, 2, g.total, self.f_plain_count)
            for j, v in enumerate(cats):
                self.number(ws, r, 3 + j, g.ratings.get(v, 0), self.f_plain_count)
        total = first + len(t.groups)
        self.text(ws, total, 0, "合計", self.f_total_label)
        self.text(ws, total, 1, "", self.f_total_blank)
        self.number(ws, total, 2, sum(g.total for g in t.groups), self.f_total_plain)
        for j, v in enumerate(cats):
            self.number(ws, total, 3 + j, sum(g.ratings.get(v, 0) for g in t.groups), self.f_total_plain)
        from xlsx_tool.summarize.report import group_heading

        for i in range(len(t.groups)):
            self.text(ws, total + 2 + i, 0, group_heading(s, t, i))
        if not t.groups:
            return
        chart = self.wb.add_chart({"type": "bar", "subtype": "stacked"})
        for j, v in enumerate(cats):
            chart.add_series({
                "name": [name, 2, 3 + j],
                "categories": [name, first, 0, total - 1, 0],
                "values": [name, first, 3 + j, total - 1, 3 + j],
                "fill": {"color": self.colour(v)},
                "data_labels": {"value": True, "custom": [
                    {"delete": True} if g.ratings.get(v, 0) == 0 else None for g in t.groups]},
            })
        chart.set_title({"name": f"{s.group_label}別 評価の内訳"})
        chart.set_y_axis({"reverse": True})  # first group on top, as in the table
        chart.set_x_axis({"name": "施策数", "major_gridlines": {"visible": True}})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 640, "height": 60 * len(t.groups) + 160})
        ok(ws.insert_chart(total + 3 + len(t.groups), 0, chart, {"x_offset": 10, "y_offset": 10}), "bar")
        ws.set_landscape()
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)

    def changes(self) -> None:
        s, t = self.survey, self.t
        ws = self.wb.add_worksheet(SHEET_CHANGES)
        for c, width in enumerate((8, 40, 10, 10, 10, 8)):
            ws.set_column(c, c, width)
        self.text(ws, 0, 0, f"前年度から評価が変わった施策（{s.year_label}）", self.f_title)
        for col, h in enumerate(("番号", "施策名", s.group_label, "前年度", "今年度", "変化")):
            self.text(ws, 2, col, h, self.f_head)
        order = {g.id: i for i, g in enumerate(s.groups)}
        rows = sorted(t.changes, key=lambda c: order.get(c.group, len(order)))
        for i, ch in enumerate(rows):
            for j, value in enumerate((ch.measure, ch.name, ch.group, ch.previous, ch.current, TREND_LABEL[ch.trend])):
                self.text(ws, 3 + i, j, value, self.f_text)
        if not rows:
            self.text(ws, 3, 0, "前年度から評価が変わった施策はありません。")
        improved = sum(c.trend == "improved" for c in t.changes)
        self.text(ws, 4 + max(len(rows), 1), 0, f"改善 {improved} 施策、低下 {len(t.changes) - improved} 施策")

    def measures(self) -> None:
        s, t = self.survey, self.t
        ws = self.wb.add_worksheet(SHEET_MEASURES)
        fixed = [(S.COL_NUMBER, 8), (s.group_label, 8), (S.COL_NAME, 36), (S.COL_DEPARTMENT, 14)]
        optional = [(c, 14) for c in (S.COL_INDICATOR, S.COL_UNIT, S.COL_TARGET) if self.master.has(c)]
        fields = [(f.name, 40 if f.type == "text" else 12) for f in s.fields]
        tail = [(S.COL_PREV_RATING, 10), ("変化", 8)]
        if self.master.has(S.COL_PREV_DIRECTION):
            tail.insert(1, (S.COL_PREV_DIRECTION, 12))
        cols = fixed + optional + fields + tail
        for c, (h, width) in enumerate(cols):
            self.text(ws, 0, c, h, self.f_head)
            ws.set_column(c, c, width)
        for i, line in enumerate(t.lines):
            m, r = line.measure, i + 1
            values: dict[str, object] = {
                S.COL_NUMBER: m.number, s.group_label: m.group, S.COL_NAME: m.name,
                S.COL_DEPARTMENT: m.department, S.COL_INDICATOR: m.indicator, S.COL_UNIT: m.unit,
                S.COL_TARGET: _number_or_text(m.target), S.COL_PREV_RATING: m.previous_rating,
                S.COL_PREV_DIRECTION: m.previous_direction,
                "変化": TREND_LABEL.get(line.change, ""),
            }
            values.update(line.answers)
            values[s.rating_field] = line.rating
            for c, (h, _w) in enumerate(cols):
                value = values.get(h)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    self.number(ws, r, c, value, self.f_text)
                else:
                    self.text(ws, r, c, value, self.f_text)
        ws.freeze_panes(1, 3)
        ws.autofilter(0, 0, max(len(t.lines), 1), len(cols) - 1)

    def report(self) -> None:
        ws = self.wb.add_worksheet(SHEET_REPORT)
        width = 72  # fits portrait A4 in Excel and LibreOffice alike
        ws.set_column(0, 0, width)
        styles = {"title": self.f_doc_title, "heading": self.f_heading, "subheading": self.f_subheading,
                  "item": self.f_body, "body": self.f_body}
        r = 0
        for style, text in report_lines(self.survey, self.master, self.t):
            if style in ("heading", "subheading"):
                r += 1
            self.text(ws, r, 0, text, styles[style])
            ws.set_row(r, row_height(text, width, 18 if style in ("title", "heading") else 15))
            r += 1
        ws.set_paper(9)
        ws.fit_to_pages(1, 0)


def row_height(text: str, width: float, line: float = 15.0) -> float:
    """Rows do not grow by themselves in a written file: give wrapped text the lines it needs."""
    from xlsx_tool.textnorm import display_width

    lines = max(1, -(-display_width(text) // int(width * 0.95)))
    return line * lines + 3


def _number_or_text(value: str) -> object:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else number
