"""The collection status workbook (回収状況.xlsx): who to chase, what is wrong, in words.

One row per department, ordered by what needs action (要修正, then 未提出, then 提出済) and,
within each, as the section lists its departments (所管課一覧, then the master), with its
contact, what to send and the received time as an Excel date in 和暦. Every sheet prints on
A4, one page wide, in Japanese only; a sheet with nothing to show (no replacement, no file
passed over) is left out rather than printed empty, and the first sheet says so.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from xlsx_tool import problems as P
from xlsx_tool.collect.decide import (
    MISSING,
    NEEDS_FIX,
    SUBMITTED,
    CollectResult,
    DepartmentStatus,
    parse_time,
)
from xlsx_tool.define import survey as S
from xlsx_tool.define.departments import in_list_order
from xlsx_tool.define.master import Loaded
from xlsx_tool.states import label as status_label
from xlsx_tool.states import status_counts
from xlsx_tool.textnorm import display_width
from xlsx_tool.wareki import EXCEL_DATE_TIME, datetime_label
from xlsx_tool.xlsxout import (
    add_sheet,
    close_to_bytes,
    escape_header_text,
    fit_row,
    new_workbook,
    shrink_widths,
    width_budget,
    write_text,
    write_value,
)

ORDER: dict[str, int] = {NEEDS_FIX: 0, MISSING: 1, SUBMITTED: 2}
COLOURS: dict[str, str] = {SUBMITTED: "#C6EFCE", NEEDS_FIX: "#FFEB9C", MISSING: "#FFC7CE"}
NOT_ASKED_COLOUR = "#EDEDED"
MARGIN = 0.4
EMAIL_MAX = 32.0  # widest e-mail column (units); a longer address wraps


def local_time(text: str) -> dt.datetime | None:
    """An ISO time (UTC 「Z」 or with an offset) as the naive local time Excel shows."""
    if not text:
        return None
    value = parse_time(text)
    if value is None or value.year < 1900:
        return None
    return value.astimezone().replace(tzinfo=None)


def returned_name(file: str) -> str:
    """A returned file as the section finds it: its path inside 2_回収."""
    prefix = S.RETURNS_DIR + "/"
    return file[len(prefix):] if file.startswith(prefix) else file


def status_workbook(loaded: Loaded, result: CollectResult, history: list[dict[str, Any]],
                    made: dt.datetime | None = None) -> bytes:
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    w = _StatusWriter(wb, loaded, result, made or dt.datetime.now())
    w.departments(bool(history))
    w.problems()
    if result.replacements:
        w.replacements()
    if result.skipped:
        w.skipped()
    if history:
        w.history(history)
    return close_to_bytes(wb, buffer)


class _StatusWriter:
    def __init__(self, wb: Any, loaded: Loaded, result: CollectResult, made: dt.datetime):
        self.wb, self.loaded, self.result, self.made = wb, loaded, result, made
        order = in_list_order([d.department for d in result.departments], loaded.departments_list)
        self.rank = {d: i for i, d in enumerate(order)}
        f = wb.add_format
        base = {"border": 1, "valign": "top", "border_color": "#A6A6A6"}
        self.f_title = f({"bold": True, "font_size": 14})
        self.f_note = f({})
        self.f_head = f({**base, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter"})
        self.f_cell = f({**base, "text_wrap": True})
        self.f_count = f({**base})
        self.f_date = f({**base, "num_format": EXCEL_DATE_TIME, "align": "left", "text_wrap": True})
        self.f_status = {k: f({**base, "bold": True, "bg_color": v, "align": "center"}) for k, v in COLOURS.items()}
        self.f_not_asked = f({**base, "bold": True, "bg_color": NOT_ASKED_COLOUR, "align": "center"})

    def sheet(self, name: str, title: str, headers: list[tuple[str, float, float]]) -> Any:
        """A sheet with its title, creation time and header row; headers are (text, wanted
        width, narrowest width): wide text columns give way so the sheet prints one page wide."""
        ws = add_sheet(self.wb, name)
        self.widths = shrink_widths([w for _h, w, _f in headers], [lo for _h, _w, lo in headers],
                                    width_budget(True, MARGIN, MARGIN))
        s = self.loaded.survey
        write_text(ws, 0, 0, f"{s.year_label} {s.title}　{title}", self.f_title)
        write_text(ws, 1, 0, f"作成日時：{datetime_label(self.made)}", self.f_note)
        for c, (h, _w, _f) in enumerate(headers):
            write_text(ws, 3, c, h, self.f_head)
            ws.set_column(c, c, self.widths[c])
        fit_row(ws, 3, [(h, w) for (h, _w, _f), w in zip(headers, self.widths, strict=True)])
        ws.freeze_panes(4, 0)
        ws.repeat_rows(3)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=MARGIN, right=MARGIN, top=0.5, bottom=0.5)
        # the survey on every page: a page found on the printer says which survey it belongs to
        ws.set_footer(f"&L{escape_header_text(f'{s.year_label} {s.title}　{name}')}&R&P / &N ページ")
        # 施策番号 and similar are text on purpose: no green "number stored as text" triangles
        ws.ignore_errors({"number_stored_as_text": "A1:XFD1048576"})
        return ws

    def fit(self, ws: Any, row: int, texts: list[str]) -> None:
        fit_row(ws, row, list(zip(texts, self.widths, strict=False)))

    def order(self, department: str) -> int:
        return self.rank.get(department, len(self.rank))

    def departments(self, received_any: bool) -> None:
        r, contacts = self.result, self.loaded.departments_list
        counts = status_counts(r.departments) + "。"
        # what has no sheet of its own, said here: a sheet with nothing on it is not printed
        if not r.replacements:
            counts += "差し替えはありません。"
        if not r.skipped and received_any:
            counts += "読み飛ばしたファイルはありません。"
        people = [self._people(contacts.get(d.department) if contacts else None) for d in r.departments]
        email = max([display_width(line) + 2.0 for text in people for line in text.split("\n")[1:]] or [0.0])
        person = min(max(email, 14.0), EMAIL_MAX)
        ws = self.sheet("回収状況", "回収状況", [
            ("状況", 7, 7), ("所管課", 14, 10), ("担当者・メール", person, person), ("記入者", 13, 10),
            ("受付日時", 16, 16), ("修正が必要な点・連絡事項", 40, 18), ("提出ファイル（2_回収）", 30, 18)])
        write_text(ws, 2, 0, counts, self.f_note)
        by_file = {s.file: s for s in r.submissions}
        rows = sorted(zip(r.departments, people, strict=True),
                      key=lambda dp: (self._rank(dp[0]), self.order(dp[0].department)))
        for i, (d, contact) in enumerate(rows, 4):
            what = self._what(d, by_file.get(d.file))
            respondent = self._respondent(d.respondent)
            label = status_label(d.status, d.asked)
            file = returned_name(d.file)
            write_text(ws, i, 0, label, self.f_status[d.status] if d.asked else self.f_not_asked)
            write_text(ws, i, 1, d.department, self.f_cell)
            write_text(ws, i, 2, contact, self.f_cell)
            write_text(ws, i, 3, respondent, self.f_cell)
            when = local_time(d.received)
            if when:
                ws.write_datetime(i, 4, when, self.f_date)
            else:
                write_text(ws, i, 4, "", self.f_cell)
            write_text(ws, i, 5, what, self.f_cell)
            write_text(ws, i, 6, file, self.f_cell)
            self.fit(ws, i, [label, d.department, contact, respondent, "令和00年00月00日\n00:00" if when else "",
                             what, file])
        ws.autofilter(3, 0, 3 + max(len(rows), 1), 6)
        ws.activate()

    @staticmethod
    def _rank(d: DepartmentStatus) -> float:
        if not d.asked:
            return len(ORDER)  # nothing to do about these: last
        return ORDER[d.status] - (0.5 if d.unanswered else 0)

    @staticmethod
    def _people(contact: Any) -> str:
        """Who to call and where to write, on lines of their own (an address never breaks
        in the middle: its column is as wide as the longest)."""
        if contact is None:
            return ""
        return "\n".join(v for v in (contact.line(), contact.email) if v)

    @staticmethod
    def _respondent(respondent: dict[str, str]) -> str:
        name, extension = respondent.get("記入者", ""), respondent.get("内線", "")
        if name and extension:
            return f"{name}（内線 {extension}）"
        return name or (f"内線 {extension}" if extension else "")

    def _what(self, d: DepartmentStatus, sub: Any) -> str:
        if not d.asked:
            return "施策がすべて終了のため、調査票を送っていません（提出は不要です）。"
        if d.status == MISSING:
            what = "まだ届いていません。提出を依頼してください。"
        elif sub is not None:
            what = P.summary(sub.problems)
            if d.status == NEEDS_FIX:
                what = (what + "。" if what else "") + "修正依頼の調査票（3_集計/修正依頼）を送ってください。"
            warn = P.summary(sub.problems, P.WARNING, 3)
            if warn:
                what = f"{what}（確認：{warn}）" if what else f"確認：{warn}"
        else:
            what = ""
        if d.unanswered:
            what += (f" 調査票の作成後に追加された施策が {d.unanswered} 件あり未回答です。"
                     "新しい調査票（1_配布）を送ってください。")
        if d.replaced:
            what += " 以前の提出から回答が差し替えられています（「差し替え」シート）。"
        return what.strip()

    def problems(self) -> None:
        ws = self.sheet("問題一覧", "問題一覧", [
            ("重大度", 8, 8), ("所管課", 14, 10), ("施策番号", 7, 7), ("項目", 12, 8), ("セル", 6, 6),
            ("内容", 60, 30), ("ファイル（2_回収）", 30, 16)])
        order = {P.ERROR: 0, P.WARNING: 1, P.NOTICE: 2}
        rows = sorted(self.result.problems, key=lambda p: (order[p.severity], self.order(p.department), p.file))
        for i, p in enumerate(rows, 4):
            values = [P.SEVERITY_LABEL[p.severity], p.department, p.measure, p.field, p.cell, p.message,
                      returned_name(p.file)]
            for c, value in enumerate(values):
                write_text(ws, i, c, value, self.f_cell)
            self.fit(ws, i, values)
        if rows:
            ws.autofilter(3, 0, 3 + len(rows), 6)
        else:
            write_text(ws, 4, 0, "問題はありません。", self.f_note)

    def replacements(self) -> None:
        ws = self.sheet("差し替え", "回答の差し替え", [
            ("所管課", 14, 10), ("施策番号", 7, 7), ("項目", 12, 8), ("変更前", 30, 14), ("変更後", 30, 14),
            ("前の提出（記入者）", 26, 14), ("新しい提出（記入者）", 26, 14)])
        r = 4
        for rep in sorted(self.result.replacements, key=lambda rep: self.order(rep.department)):
            old = returned_name(rep.old_file) + (f"（{rep.old_respondent}）" if rep.old_respondent else "")
            new = returned_name(rep.new_file) + (f"（{rep.new_respondent}）" if rep.new_respondent else "")
            for c in rep.changes:
                for col, value in enumerate((rep.department, c.measure, c.field)):
                    write_text(ws, r, col, value, self.f_cell)
                write_value(ws, r, 3, "（なし）" if c.old is None else c.old, self.f_cell)
                write_value(ws, r, 4, "（なし）" if c.new is None else c.new, self.f_cell)
                write_text(ws, r, 5, old, self.f_cell)
                write_text(ws, r, 6, new, self.f_cell)
                self.fit(ws, r, [rep.department, c.measure, c.field, str(c.old), str(c.new), old, new])
                r += 1

    def skipped(self) -> None:
        ws = self.sheet("読み飛ばし", "読み飛ばしたファイル", [("ファイル", 50, 30), ("理由", 70, 40)])
        for i, k in enumerate(self.result.skipped, 4):
            file = returned_name(k["file"])
            write_text(ws, i, 0, file, self.f_cell)
            write_text(ws, i, 1, k["reason"], self.f_cell)
            self.fit(ws, i, [file, k["reason"]])

    def history(self, history: list[dict[str, Any]]) -> None:
        ws = self.sheet("受付履歴", "受付履歴（これまでに受け付けたすべてのファイル）", [
            ("ファイル（2_回収）", 40, 24), ("所管課", 14, 10), ("保存日時", 16, 16), ("初回受付", 16, 16),
            ("結果", 18, 12), ("エラー", 6, 6), ("SHA-256（先頭）", 18, 18)])
        for i, h in enumerate(history, 4):
            outcome = "調査票として受付" if h["outcome"] == "identified" else P.short(h["outcome"])
            file = returned_name(h["path"])
            write_text(ws, i, 0, file, self.f_cell)
            write_text(ws, i, 1, h["department"] or "", self.f_cell)
            dated = False
            for col, key in ((2, "saved_at"), (3, "first_seen")):
                when = local_time(h[key] or "")
                if when:
                    ws.write_datetime(i, col, when, self.f_date)
                    dated = True
                else:
                    write_text(ws, i, col, "", self.f_cell)
            write_text(ws, i, 4, outcome, self.f_cell)
            self.fit(ws, i, [file, h["department"] or "", "令和00年00月00日\n00:00" if dated else "", "", outcome])
            write_value(ws, i, 5, h["errors"], self.f_count)
            write_text(ws, i, 6, (h["sha256"] or "")[:16], self.f_cell)
