"""The summary workbook (集計結果.xlsx): tally tables, charts, all measures, draft report text.

Counts are numbers in cells (a number format shows 「施策」). 計 and 割合 are formulas over the
counts, so a count corrected by hand flows through; their values are written too, so a
reader that does not calculate (python-calamine, a previewer) still sees them. The shares
use the largest-remainder rule as a formula: they add up to 100 like the tool's own.
Department text is always written as text (「=HYPERLINK(…)」 stays text). Every sheet prints
on A4, one page wide, and no chart is cut across a page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Master
from xlsx_tool.define.survey import Survey
from xlsx_tool.summarize.history import YearCounts
from xlsx_tool.summarize.report import Chart, Paragraph, Report, Table, build
from xlsx_tool.summarize.tally import TREND_LABEL, UNANSWERED, Tally
from xlsx_tool.summarize.wording import Placeholder, Wording
from xlsx_tool.xlsxout import (
    FONT,
    add_sheet,
    close_to_bytes,
    escape_header_text,
    fit_row,
    new_workbook,
    ok,
    page_points,
    shrink_widths,
    text_height,
    width_budget,
    write_text,
    write_value,
)

PERCENT_FORMAT = "0%"
# Rating colours in scale order (best first): blue to red, greys for unranked/未回答.
PALETTE = ["#2E75B6", "#70AD47", "#FFC000", "#ED7D31", "#A5A5A5", "#7F7F7F", "#C00000"]

SHEET_RATINGS = "評価別集計表"
SHEET_DIRECTIONS = "方向性別集計表"
SHEET_CHANGES = "前年度比較"
SHEET_MEASURES = "全施策一覧"
SHEET_REPORT = "報告文案"
# Points of stored row height a printed 報告文案 page is planned for: below what LibreOffice fits
# (page_points), so a heading kept with its next line never lands alone at a page foot
REPORT_PAGE_POINTS = 640.0
SHEET_HISTORY = "経年比較"
SHEET_CHART_DATA = "_グラフ"  # hidden: the pie's labels, as formulas over the counts
MARGINS = (0.5, 0.5, 0.6, 0.6)  # left, right, top, bottom (inches)


def group_sheet_name(survey: Survey) -> str:
    return f"{survey.group_label}別集計表"


def pie_label(value: str, count: int, percent: int) -> str:
    return Wording.pie_label(value, count, percent)


def summary_workbook(survey: Survey, master: Master, t: Tally, history: Sequence[YearCounts] = (),
                     report: Report | None = None) -> bytes:
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    w = _SummaryWriter(wb, survey, master, t, report or build(survey, master, t))
    w.ratings()
    if t.directions:
        w.directions()
    w.groups()
    if t.changes or any(m.previous_rating for m in master.measures):
        w.changes()
    if len(history) > 1:
        w.history(history)
    w.measures()
    w.report()
    w.chart_data()
    wb.set_properties({"title": f"{survey.year_label} {survey.title} 集計結果", "author": "xlsx-tool"})
    return close_to_bytes(wb, buffer)


def _col(c: int) -> str:
    letters = ""
    c += 1
    while c:
        c, rem = divmod(c - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def share_formula(col: str, first: int, last: int, row: int, total: str) -> str:
    """割合 of row `row` (1-based) by the largest-remainder rule, as an Excel formula.

    Each row gets INT(100·c/N), and the 100 − Σ INT left over go one each to the rows with
    the largest remainders MOD(100·c, N) (ties: the larger count, then the earlier row) —
    tally.largest_remainder, in a form Excel and LibreOffice both calculate.
    """
    rng = f"${col}${first}:${col}${last}"
    c = f"{col}{row}"
    rem = f"MOD(100*{c},{total})"
    rank = (f"SUMPRODUCT(--(MOD(100*{rng},{total})>{rem}))"
            f"+SUMPRODUCT((MOD(100*{rng},{total})={rem})*({rng}>{c}))")
    if row > first:
        earlier = f"${col}${first}:{col}{row - 1}"
        rank += f"+SUMPRODUCT((MOD(100*{earlier},{total})={rem})*({earlier}={c}))"
    spare = f"(100-SUMPRODUCT(INT(100*{rng}/{total})))"
    return f"=IF({total}=0,0,(INT(100*{c}/{total})+IF({rank}<{spare},1,0))/100)"


class _SummaryWriter:
    def __init__(self, wb: Any, survey: Survey, master: Master, t: Tally, report: Report):
        self.wb, self.survey, self.master, self.t, self.model = wb, survey, master, t, report
        self.words = Wording(survey)
        base = {"border": 1, "valign": "vcenter", "border_color": "#808080"}
        f = wb.add_format
        self.f_title = f({"bold": True, "font_size": 13})
        self.f_head = f({**base, "bold": True, "bg_color": "#DDEBF7", "align": "center", "text_wrap": True})
        self.f_text = f({**base, "text_wrap": True})
        self.f_top = f({**base, "text_wrap": True, "valign": "top"})
        self.f_center = f({**base, "align": "center"})
        self.f_count = f({**base, "num_format": self.words.count_format})
        self.f_group_count = f({**base, "num_format": self.words.group_count_format})
        self.f_percent = f({**base, "num_format": PERCENT_FORMAT})
        self.f_total_label = f({**base, "bold": True, "align": "center", "bg_color": "#F2F2F2"})
        self.f_total_count = f({**base, "bold": True, "num_format": self.words.count_format, "bg_color": "#F2F2F2"})
        self.f_total_group = f({**base, "bold": True, "num_format": self.words.group_count_format,
                                "bg_color": "#F2F2F2"})
        self.f_total_percent = f({**base, "bold": True, "num_format": PERCENT_FORMAT, "bg_color": "#F2F2F2"})
        self.f_total_blank = f({**base, "bg_color": "#F2F2F2"})
        self.f_body = f({"text_wrap": True, "valign": "top"})
        self.f_heading = f({"bold": True, "font_size": 12, "valign": "top"})
        self.f_subheading = f({"bold": True, "valign": "top", "text_wrap": True})
        self.f_doc_title = f({"bold": True, "font_size": 14, "text_wrap": True, "valign": "top"})
        self.f_note = f({"valign": "top", "text_wrap": True})
        self.direction_formats: dict[str, Any] = {}
        self.pie_rows: tuple[int, int] = (0, 0)
        self.page: dict[str, float] = {}  # sheet -> points of stored row height a page holds

    # --- helpers ----------------------------------------------------------------------------
    def sheet(self, name: str, widths: list[float] | tuple[float, ...] = (), landscape: bool | None = None) -> Any:
        """A sheet printing on A4 one page wide: portrait unless its columns need landscape to
        keep 8.2 pt text (or `landscape` says)."""
        ws = add_sheet(self.wb, name)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width)
        if landscape is None:
            landscape = sum(widths) > width_budget(False, MARGINS[0], MARGINS[1])
        ws.set_paper(9)
        if landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.set_margins(*MARGINS)
        ws.set_footer(f"&L{escape_header_text(self.survey.year_label + ' ' + self.survey.title)}"
                      f"　{escape_header_text(name)}&R&P / &N ページ")
        # 施策番号 are text on purpose (「No.4」 and 「4」 alike): no green "number stored as text" marks
        ws.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
        self.page[name] = page_points(list(widths), landscape, MARGINS)
        return ws

    def text(self, ws: Any, r: int, c: int, value: object, fmt: Any = None) -> None:
        write_text(ws, r, c, "" if value is None else str(value), fmt)

    def formula(self, ws: Any, r: int, c: int, formula: str, fmt: Any, value: float | str) -> None:
        ok(ws.write_formula(r, c, formula, fmt, value), f"{ws.name} {r + 1}行")

    def colour(self, value: str) -> str:
        if value == UNANSWERED:
            return "#D9D9D9"
        names = self.survey.rating_scale.names
        return PALETTE[names.index(value) % len(PALETTE)] if value in names else "#D9D9D9"

    def chart(self, kind: dict[str, str]) -> Any:
        return japanese_chart(self.wb.add_chart(kind))

    def place_chart(self, ws: Any, row: int, chart: Any, width_px: float, height_px: float,
                    least_px: float) -> None:
        """Insert a chart under its table, on the table's page: made shorter (down to `least_px`)
        where the page has less room than it wants, on the next page only where even that does
        not fit. Room is counted from the rows' stored heights, as the page prints them."""
        capacity = self.page[ws.name]
        used = ws.rows_points(0, row - 1) % capacity
        room_px = (capacity - used) / 0.75 - 20  # the chart sits 10 px below its row
        if room_px < least_px:
            ws.set_h_pagebreaks([row])
            room_px = capacity / 0.75 - 20
        chart.set_size({"width": width_px, "height": max(min(height_px, room_px), least_px)})
        ok(ws.insert_chart(row, 0, chart, {"x_offset": 10, "y_offset": 10, "object_position": 3}), "chart")

    # 評価別集計表: 施策の評価 | 評価の内容 | 該当施策 [| 割合], [計]; the pie.
    def ratings(self) -> None:
        t, words = self.t, self.words
        widths = (12, 52, 11, 9) if words.percent_column else (12, 60, 12)
        ws = self.sheet(SHEET_RATINGS, widths)
        self.text(ws, 0, 0, words.rating_table_title, self.f_title)
        heads = ["施策の評価", "評価の内容", "該当施策"] + (["割合"] if words.percent_column else [])
        for c, h in enumerate(heads):
            self.text(ws, 2, c, h, self.f_head)
        first = 3
        last = first + len(t.ratings) - 1
        total_row = last + 1
        total_ref = f"$C${total_row + 1}"
        for i, row in enumerate(t.ratings):
            r = first + i
            self.text(ws, r, 0, words.rating_label(row.value), self.f_center)
            self.text(ws, r, 1, row.definition, self.f_text)
            write_value(ws, r, 2, row.count, self.f_count)
            if words.percent_column:
                self.formula(ws, r, 3, share_formula("C", first + 1, last + 1, r + 1, total_ref),
                             self.f_percent, row.percent / 100)
            fit_row(ws, r, [(row.definition, widths[1])], minimum=20)
        if words.percent_column:
            self.text(ws, total_row, 0, "計", self.f_total_label)
            self.text(ws, total_row, 1, "", self.f_total_blank)
            self.formula(ws, total_row, 2, f"=SUM(C{first + 1}:C{last + 1})", self.f_total_count, t.total)
            self.formula(ws, total_row, 3, f"=SUM(D{first + 1}:D{last + 1})", self.f_total_percent,
                         1 if t.total else 0)
        chart_row = total_row + 2
        self.pie_rows = (first, last)
        chart = self.chart({"type": "pie"})
        n = len(t.ratings)
        chart.add_series({
            "name": words.pie_title,
            "categories": [SHEET_CHART_DATA, 1, 3, n, 3],
            "values": [SHEET_CHART_DATA, 1, 1, n, 1],
            "data_labels": {"category": True, "position": "outside_end", "leader_lines": True,
                            "font": font(10),
                            "custom": [{"delete": True} if row.count == 0 else None for row in t.ratings]},
            "points": [{"fill": {"color": self.colour(row.value)}} for row in t.ratings],
        })
        chart.set_title({"name": words.pie_title, "name_font": font(12)})
        chart.set_legend({"none": True})
        self.place_chart(ws, chart_row, chart, 600, 400, least_px=300)

    def chart_data(self) -> None:
        """The pie's labels (「【A】, 24施策, 59%」) as formulas over the table's counts, on a
        hidden sheet: nothing prints beside the report table, and a corrected count flows
        into the chart."""
        t, words = self.t, self.words
        ws = self.wb.add_worksheet(SHEET_CHART_DATA)
        for c, h in enumerate(("評価", "該当施策", "割合", "グラフ表示")):
            self.text(ws, 0, c, h)
        first, _last = self.pie_rows
        n = len(t.ratings)
        total = f"$B${n + 2}"
        for i, row in enumerate(t.ratings):
            r = 1 + i
            self.text(ws, r, 0, row.value)
            self.formula(ws, r, 1, f"='{SHEET_RATINGS}'!C{first + 1 + i}", None, row.count)
            self.formula(ws, r, 2, share_formula("B", 2, n + 1, r + 1, total), None, row.percent / 100)
            self.formula(ws, r, 3, f'="【"&A{r + 1}&"】, "&B{r + 1}&"施策, "&TEXT(C{r + 1},"0%")', None,
                         words.pie_label(row.value, row.count, row.percent))
        self.formula(ws, n + 1, 1, f"=SUM(B2:B{n + 1})", None, t.total)
        ws.hide()

    # 方向性別集計表: 施策の方向性 | 該当施策 | 内訳. The count is a number (a hand correction flows
    # into 計); its 内訳 is text in the next cell, where it is seen and corrected too (inside the
    # count's number format it was invisible in the formula bar and went stale with a correction).
    def directions(self) -> None:
        t, words = self.t, self.words
        ws = self.sheet(SHEET_DIRECTIONS)
        widths = (18, 12, 26)
        for c, width in enumerate(widths):
            ws.set_column(c, c, width)
        self.text(ws, 0, 0, words.direction_table_title, self.f_title)
        for c, h in enumerate(("施策の方向性", "該当施策", "内訳")):
            self.text(ws, 2, c, h, self.f_head)
        for i, d in enumerate(t.directions):
            r = 3 + i
            self.text(ws, r, 0, d.value, self.f_center)
            write_value(ws, r, 1, d.count, self.f_count)
            breakdown = words.breakdown(d)
            if breakdown:
                self.text(ws, r, 2, breakdown, self.f_text)
            else:
                ok(ws.write_blank(r, 2, None, self.f_text), f"{ws.name} {r + 1}行")
            fit_row(ws, r, [(breakdown, widths[2])], minimum=20)
        if not words.old:
            r = 3 + len(t.directions)
            self.text(ws, r, 0, "計", self.f_total_label)
            self.formula(ws, r, 1, f"=SUM(B4:B{r})", self.f_total_count, sum(d.count for d in t.directions))
            ok(ws.write_blank(r, 2, None, self.f_total_blank), f"{ws.name} {r + 1}行")

    # Group × rating, with row and column totals as formulas, the report's per-group lines and a bar.
    def groups(self) -> None:
        s, t, words = self.survey, self.t, self.words
        name = group_sheet_name(s)
        cats = list(t.categories)
        if words.old:
            heads = [s.group_label, "計", *cats]
            widths = [28.0] + [8.0] * (1 + len(cats))
            first_cat, total_col = 2, 1
        else:
            heads = [s.group_label, "名称", "施策数", *cats]
            widths = [9.0, 30.0] + [9.0] * (1 + len(cats))
            first_cat, total_col = 3, 2
        # portrait while the columns allow: the bar chart then fits under its table
        ws = self.sheet(name, widths)
        self.text(ws, 0, 0, words.group_table_title, self.f_title)
        for c, h in enumerate(heads):
            self.text(ws, 2, c, h, self.f_head)
        first = 3
        last_cat = _col(first_cat + len(cats) - 1)
        for i, g in enumerate(t.groups):
            r = first + i
            self.text(ws, r, 0, words.group_label(g) if words.old else g.id,
                      self.f_text if words.old else self.f_center)
            if not words.old:
                self.text(ws, r, 1, g.name, self.f_text)
            self.formula(ws, r, total_col, f"=SUM({_col(first_cat)}{r + 1}:{last_cat}{r + 1})",
                         self.f_group_count, g.total)
            for j, v in enumerate(cats):
                write_value(ws, r, first_cat + j, g.ratings.get(v, 0), self.f_group_count)
        total = first + len(t.groups)
        self.text(ws, total, 0, "合  計" if words.old else "合計", self.f_total_label)
        if not words.old:
            self.text(ws, total, 1, "", self.f_total_blank)
        for c in range(total_col, first_cat + len(cats)):
            col = _col(c)
            value = sum(g.total for g in t.groups) if c == total_col else \
                sum(g.ratings.get(cats[c - first_cat], 0) for g in t.groups)
            self.formula(ws, total, c, f"=SUM({col}{first + 1}:{col}{total})", self.f_total_group, value)
        r = total + 2
        for i, g in enumerate(t.groups):
            self.text(ws, r + i, 0, words.group_heading(i, g, t))
        if not t.groups:
            return
        chart = self.chart({"type": "bar", "subtype": "stacked"})
        for j, v in enumerate(cats):
            chart.add_series({
                "name": [name, 2, first_cat + j],
                "categories": [name, first, 0, total - 1, 0],
                "values": [name, first, first_cat + j, total - 1, first_cat + j],
                "fill": {"color": self.colour(v)},
                "data_labels": {"value": True, "font": font(10), "custom": [
                    {"delete": True} if g.ratings.get(v, 0) == 0 else None for g in t.groups]},
            })
        chart.set_title({"name": f"{s.group_label}別 評価の内訳", "name_font": font(12)})
        chart.set_y_axis({"reverse": True, "num_font": font(10)})  # first group on top, as in the table
        chart.set_x_axis({"name": "施策数", "major_gridlines": {"visible": True}, "num_font": font(10),
                          "name_font": font(10)})
        chart.set_legend({"position": "bottom", "font": font(10)})
        self.place_chart(ws, r + len(t.groups) + 1, chart, 620, 50 * len(t.groups) + 180,
                         least_px=28 * len(t.groups) + 150)

    def changes(self) -> None:
        s, t, words = self.survey, self.t, self.words
        # with the departments' reasons (評価の変更理由) beside the moves they explain
        reason = s.reason_field
        widths: tuple[float, ...] = (7, 30, 16, 10, 10, 6, 50) if reason else (8, 44, 18, 11, 11, 8)
        ws = self.sheet(SHEET_CHANGES, widths, landscape=True)
        self.text(ws, 0, 0, f"前年度から評価が変わった施策（{words.this_year}、{words.previous_year}との比較）", self.f_title)
        heads = ("番号", "施策名", s.group_label, words.previous_year, words.this_year, "変化") + ((reason,) if reason else ())
        for c, h in enumerate(heads):
            self.text(ws, 2, c, h, self.f_head)
        order = {g.id: i for i, g in enumerate(s.groups)}
        rows = sorted(t.changes, key=lambda ch: order.get(ch.group, len(order)))
        for i, ch in enumerate(rows):
            group = s.group(ch.group)
            values = (ch.measure, ch.name, words.group_label(group) if group else ch.group,
                      words.rating_label(ch.previous), words.rating_label(ch.current), TREND_LABEL[ch.trend]) \
                + ((ch.reason,) if reason else ())
            for j, value in enumerate(values):
                self.text(ws, 3 + i, j, value, self.f_text)
            fit_row(ws, 3 + i, [(ch.name, widths[1])] + ([(ch.reason, widths[6])] if reason else []))
        if not rows:
            self.text(ws, 3, 0, "前年度から評価が変わった施策はありません。")
        improved = sum(c.trend == "improved" for c in t.changes)
        declined = sum(c.trend == "declined" for c in t.changes)
        other = len(t.changes) - improved - declined
        note = f"改善 {improved} 施策、低下 {declined} 施策"
        if other:
            note += f"（終了・その他への変化など、改善・低下に数えないもの {other} 施策）"
        self.text(ws, 4 + max(len(rows), 1), 0, note)
        ws.repeat_rows(2)

    def history(self, years: Sequence[YearCounts]) -> None:
        s, words = self.survey, self.words
        cats = [v for v in s.rating_scale.names]
        ws = self.sheet(SHEET_HISTORY, [14.0] + [9.0] * (1 + len(cats)), landscape=True)
        self.text(ws, 0, 0, f"評価別施策数の推移（{words.year(years[0].fiscal_year)}〜{words.this_year}）", self.f_title)
        heads = ["年度", "施策数", *(words.rating_label(v) for v in cats)]
        for c, h in enumerate(heads):
            self.text(ws, 2, c, h, self.f_head)
        for i, y in enumerate(years):
            r = 3 + i
            self.text(ws, r, 0, words.year(y.fiscal_year), self.f_center)
            self.formula(ws, r, 1, f"=SUM(C{r + 1}:{_col(1 + len(cats))}{r + 1})", self.f_count, y.total)
            for j, v in enumerate(cats):
                write_value(ws, r, 2 + j, y.ratings.get(v, 0), self.f_count)
        last = 3 + len(years) - 1
        chart = self.chart({"type": "column", "subtype": "stacked"})
        for j, v in enumerate(cats):
            chart.add_series({"name": [SHEET_HISTORY, 2, 2 + j], "categories": [SHEET_HISTORY, 3, 0, last, 0],
                              "values": [SHEET_HISTORY, 3, 2 + j, last, 2 + j],
                              "fill": {"color": self.colour(v)},
                              "data_labels": {"value": True, "font": font(10), "custom": [
                                  {"delete": True} if not y.ratings.get(v) else None for y in years]}})
        chart.set_title({"name": "評価別施策数の推移", "name_font": font(12)})
        chart.set_y_axis({"name": "施策数", "major_gridlines": {"visible": True}, "num_font": font(10),
                          "name_font": font(10)})
        chart.set_x_axis({"num_font": font(10)})
        chart.set_legend({"position": "bottom", "font": font(10)})
        self.place_chart(ws, last + 2, chart, 640, 380, least_px=300)

    def measures(self) -> None:
        s, t = self.survey, self.t
        fixed = [(S.COL_NUMBER, 6.0), (s.group_label, 8.0), (S.COL_NAME, 24.0), (S.COL_DEPARTMENT, 12.0)]
        optional = [(c, w) for c, w in ((S.COL_INDICATOR, 14.0), (S.COL_TARGET, 7.0)) if self.master.has(c)]
        fields = [(f.name, 30.0 if f.type == "text" else 9.0) for f in s.fields]
        tail = [(S.COL_PREV_RATING, 9.0), ("変化", 6.0)]
        if self.master.has(S.COL_PREV_DIRECTION):
            tail.insert(1, (S.COL_PREV_DIRECTION, 10.0))
        rows: list[dict[str, object]] = []
        for line in t.lines:
            m = line.measure
            values: dict[str, object] = {
                S.COL_NUMBER: m.number, s.group_label: m.group, S.COL_NAME: m.name,
                S.COL_DEPARTMENT: m.department, S.COL_INDICATOR: m.indicator + (f"（{m.unit}）" if m.unit else ""),
                S.COL_TARGET: _number_or_text(m.target), S.COL_PREV_RATING: m.previous_rating,
                S.COL_PREV_DIRECTION: m.previous_direction, "変化": TREND_LABEL.get(line.change, ""),
            }
            values.update(line.answers)
            values[s.rating_field] = line.rating
            rows.append(values)
        # a column no measure fills (no 前年度評価 in a first year) gives its width to the answers
        def filled(columns: list[tuple[str, float]]) -> list[tuple[str, float]]:
            return [(h, w) for h, w in columns if any(v.get(h) not in (None, "") for v in rows)]

        cols = fixed + filled(optional) + fields + filled(tail)
        wanted = [w for _h, w in cols]
        widths = shrink_widths(wanted, [12.0 if h == S.COL_NAME or w >= 30 else w for h, w in cols],
                               width_budget(True, 0.5, 0.5))
        ws = self.sheet(SHEET_MEASURES, widths, landscape=True)
        for c, (h, _w) in enumerate(cols):
            self.text(ws, 0, c, h, self.f_head)
        fit_row(ws, 0, [(h, widths[c]) for c, (h, _w) in enumerate(cols)])
        for r, values in enumerate(rows, 1):
            shown = []
            for c, (h, _w) in enumerate(cols):
                value = values.get(h)
                write_value(ws, r, c, value, self.f_top)
                if isinstance(value, str) and value:
                    shown.append((value, widths[c]))
            fit_row(ws, r, shown)
        ws.freeze_panes(1, 3)
        ws.repeat_rows(0)
        ws.autofilter(0, 0, max(len(t.lines), 1), len(cols) - 1)

    # 報告文案: the report model, one line per paragraph; placeholders in bold red on a yellow
    # cell with their help as the cell's comment; tables and the chart as lines of their cells.
    def report(self) -> None:
        width = 80
        ws = self.sheet(SHEET_REPORT, [float(width)], landscape=False)
        f = self.wb.add_format
        f_table = f({"text_wrap": True, "valign": "top", "border": 1, "border_color": "#A6A6A6", "font_size": 9})
        f_table_head = f({"text_wrap": True, "valign": "top", "border": 1, "border_color": "#A6A6A6",
                          "font_size": 9, "bold": True, "bg_color": "#DDEBF7"})
        f_caption = f({"bold": True, "valign": "top", "text_wrap": True})
        styles = {0: (self.f_doc_title, 14.0), 1: (self.f_heading, 12.0), 2: (self.f_subheading, 10.0)}
        lines: list[tuple[Any, float, Paragraph | str, bool]] = []  # (format, font, content, keep with next)
        for section in self.model.sections:
            if section.heading is not None:
                fmt, size = styles[section.level]
                if lines:
                    lines.append((None, 0.0, "", False))  # a blank row before a heading
                lines.append((fmt, size, section.heading, True))
            for block in section.blocks:
                if isinstance(block, Paragraph):
                    fmt = f_caption if block.style == "caption" else self.f_body
                    lines.append((fmt, 10.0, block, block.style in ("caption", "label")))
                elif isinstance(block, Table):
                    rows = _table_lines(block)
                    for j, row in enumerate(rows):  # a table is kept whole, like a heading with its line
                        lines.append((f_table_head if j < len(block.header) else f_table, 9.0, row, j < len(rows) - 1))
                elif isinstance(block, Chart):
                    shown = "　".join(label for label in block.labels if label)
                    lines.append((f_table, 9.0, f"円グラフ「{block.title}」：{shown}", False))
        # Excel has no "keep with next": lines that must stay together (a heading and its first
        # line, a table with its title) start a new page when they would not fit on this one.
        capacity = REPORT_PAGE_POINTS
        heights = [text_height(_text(c), width, size) if fmt is not None else 15.0 for fmt, size, c, _k in lines]
        breaks, used = [], 0.0
        for r, (fmt, _size, _content, _keep) in enumerate(lines):
            if fmt is None and used == 0.0:
                continue  # no blank row at the top of a page
            chain = r
            while chain + 1 < len(lines) and lines[chain][3]:
                chain += 1
            together = sum(heights[r:chain + 1]) if r == 0 or not lines[r - 1][3] else heights[r]
            if used and used + min(together, capacity) > capacity:
                breaks.append(r)
                used = 0.0
            used += heights[r]
        for r, (fmt, size, content, _keep) in enumerate(lines):
            if fmt is None:
                continue
            if isinstance(content, Paragraph) and content.placeholders:
                self.rich(ws, r, content, size, fmt is not self.f_body)
            else:
                self.text(ws, r, 0, _text(content), fmt)
            ws.fit_row(r, min(heights[r], 409))
        if breaks:
            ws.set_h_pagebreaks(breaks)

    def rich(self, ws: Any, r: int, p: Paragraph, size: float, bold: bool) -> None:
        """A paragraph with placeholders: a yellow cell, the placeholder runs bold red, their help
        as the cell's comment (on screen; the Word document has it as a comment too)."""
        f = self.wb.add_format
        plain_run = f({"font_size": size, "bold": bold})
        marked = f({"font_size": size, "bold": True, "font_color": "#C00000"})
        cell = f({"text_wrap": True, "valign": "top", "bg_color": "#FFF2CC", "font_size": size, "bold": bold})
        fragments: list[Any] = []
        for run in p.runs:
            fragments += [marked, run.text] if isinstance(run, Placeholder) else [plain_run, run]
        if len(fragments) == 2:  # one run: xlsxwriter's rich strings need two, so the cell carries the look
            self.text(ws, r, 0, p.text, f({"text_wrap": True, "valign": "top", "bg_color": "#FFF2CC",
                                            "font_size": size, "bold": True, "font_color": "#C00000"}))
        else:
            ok(ws.write_rich_string(r, 0, *fragments, cell), f"{ws.name} {r + 1}行")
        notes = "\n\n".join(f"{x.text}\n{x.help}" for x in p.placeholders if x.help)
        if notes:
            ok(ws.write_comment(r, 0, notes[:32000], {"x_scale": 4, "y_scale": 6, "author": "xlsx-tool"}),
               f"{ws.name} {r + 1}行 コメント")


def _text(content: Paragraph | str) -> str:
    return content.text if isinstance(content, Paragraph) else content


def _table_lines(table: Table) -> list[str]:
    """A table in one column: each row's cells joined by 「｜」 (a cell's line breaks as spaces)."""
    head = ["｜".join(c.text for c in row) for row in table.header]
    return head + ["｜".join(cell.replace("\n", " ") for cell in row) for row in table.rows]


def _number_or_text(value: str) -> object:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else number


def font(size: float) -> dict[str, object]:
    """Chart text in the workbook's font (the tables' 游ゴシック), at `size` points."""
    return {"name": FONT, "size": size}


def japanese_chart(chart: Any) -> Any:
    """A chart whose text is Japanese to Excel: language ja-JP (xlsxwriter writes en-US) and the
    font named for East Asian text too (<a:ea>), so a chart renders in the tables' font.

    xlsxwriter has no option for either: its XML writer is adjusted on this one chart.
    """
    empty, start, latin = chart._xml_empty_tag, chart._xml_start_tag, chart._write_a_latin

    def japanese(attributes: list | None) -> list:
        return [(k, "ja-JP" if v == "en-US" and k in ("lang", "val") else v) for k, v in attributes or []]

    def with_east_asian(attributes: list) -> None:
        latin(attributes)
        typeface = [a for a in attributes if a[0] == "typeface"]
        empty("a:ea", typeface)
        empty("a:cs", typeface)

    chart._xml_empty_tag = lambda tag, attributes=None: empty(tag, japanese(attributes))
    chart._xml_start_tag = lambda tag, attributes=None: start(tag, japanese(attributes))
    chart._write_a_latin = with_east_asian
    return chart
