"""The collection status workbook (回収状況.xlsx): who to chase, what is wrong, in words.

One row per department, ordered by what needs action (要修正, then 未提出, then 提出済),
with its contact, the correction copy to send, and the received time as an Excel date in
local time. Every sheet prints on A4, one page wide, in Japanese only.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from xlsx_tool import problems as P
from xlsx_tool.collect.decide import (
    MISSING,
    NEEDS_FIX,
    STATUS_LABEL,
    SUBMITTED,
    CollectResult,
    parse_time,
)
from xlsx_tool.define.master import Loaded
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
DATE_FORMAT = "yyyy/m/d h:mm"


def local_time(text: str) -> dt.datetime | None:
    """An ISO time (UTC 「Z」 or with an offset) as the naive local time Excel shows."""
    if not text:
        return None
    value = parse_time(text)
    if value is None or value.year < 1900:
        return None
    return value.astimezone().replace(tzinfo=None)


def status_workbook(loaded: Loaded, result: CollectResult, history: list[dict[str, Any]],
                    made: dt.datetime | None = None) -> bytes:
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    w = _StatusWriter(wb, loaded, result, made or dt.datetime.now())
    w.departments()
    w.problems()
    w.replacements()
    w.skipped()
    w.history(history)
    return close_to_bytes(wb, buffer)


class _StatusWriter:
    def __init__(self, wb: Any, loaded: Loaded, result: CollectResult, made: dt.datetime):
        self.wb, self.loaded, self.result, self.made = wb, loaded, result, made
        f = wb.add_format
        base = {"border": 1, "valign": "top", "border_color": "#A6A6A6"}
        self.f_title = f({"bold": True, "font_size": 14})
        self.f_note = f({})
        self.f_head = f({**base, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "valign": "vcenter"})
        self.f_cell = f({**base, "text_wrap": True})
        self.f_count = f({**base})
        self.f_date = f({**base, "num_format": DATE_FORMAT, "align": "left"})
        self.f_status = {k: f({**base, "bold": True, "bg_color": v, "align": "center"}) for k, v in COLOURS.items()}

    def sheet(self, name: str, title: str, headers: list[tuple[str, float]]) -> Any:
        ws = add_sheet(self.wb, name)
        wanted = [float(w) for _h, w in headers]
        # the wide text columns give way so the sheet prints one page wide at 8.2 pt or more
        self.widths = shrink_widths(wanted, [min(w, 14.0) for w in wanted], width_budget(True, 0.4, 0.4))
        headers = [(h, w) for (h, _w), w in zip(headers, self.widths, strict=True)]
        s = self.loaded.survey
        write_text(ws, 0, 0, f"{s.year_label} {s.title}　{title}", self.f_title)
        write_text(ws, 1, 0, f"作成日時：{self.made:%Y年%m月%d日 %H:%M}", self.f_note)
        for c, (h, width) in enumerate(headers):
            write_text(ws, 3, c, h, self.f_head)
            ws.set_column(c, c, width)
        fit_row(ws, 3, [(h, w) for h, w in headers])
        ws.freeze_panes(4, 0)
        ws.repeat_rows(3)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.set_footer(f"&L{escape_header_text(name)}&R&P / &N ページ")
        return ws

    def fit(self, ws: Any, row: int, texts: list[str]) -> None:
        fit_row(ws, row, list(zip(texts, self.widths, strict=False)))

    def departments(self) -> None:
        r, loaded = self.result, self.loaded
        counts = (f"提出済 {r.count(SUBMITTED)} 課、要修正 {r.count(NEEDS_FIX)} 課、"
                  f"未提出 {r.count(MISSING)} 課（全 {len(r.departments)} 課）")
        ws = self.sheet("回収状況", "回収状況", [
            ("状況", 7), ("所管課", 16), ("担当者・内線", 16), ("メール", 22), ("記入者", 14),
            ("受付日時", 14), ("修正が必要な点・連絡事項", 34), ("修正依頼の調査票", 26), ("提出ファイル", 26)])
        write_text(ws, 2, 0, counts, self.f_note)
        by_file = {s.file: s for s in r.submissions}
        contacts = loaded.departments_list
        rows = sorted(r.departments, key=lambda d: (ORDER[d.status] - (0.5 if d.unanswered else 0), d.department))
        for i, d in enumerate(rows, 4):
            contact = contacts.get(d.department) if contacts else None
            sub = by_file.get(d.file)
            if d.status == MISSING:
                what = "まだ届いていません。提出を依頼してください。"
            elif sub is not None:
                what = P.summary(sub.problems)
                if d.status == NEEDS_FIX:
                    what = (what + "。" if what else "") + "修正依頼の調査票を送ってください。"
                warn = P.summary(sub.problems, P.WARNING, 3)
                if warn:
                    what = (what + " " if what else "") + f"（確認：{warn}）"
            else:
                what = ""
            if d.unanswered:
                what += (f" 調査票の作成後に追加された施策が {d.unanswered} 件あり未回答です。"
                         "新しい調査票（1_配布）を送ってください。")
            if d.replaced:
                what += " 以前の提出から回答が差し替えられています（「差し替え」シート）。"
            respondent = "　".join(v for v in (d.respondent.get("記入者", ""),
                                              f"内線 {d.respondent['内線']}" if d.respondent.get("内線") else "") if v)
            write_text(ws, i, 0, STATUS_LABEL[d.status], self.f_status[d.status])
            write_text(ws, i, 1, d.department, self.f_cell)
            write_text(ws, i, 2, contact.line() if contact else "", self.f_cell)
            write_text(ws, i, 3, contact.email if contact else "", self.f_cell)
            write_text(ws, i, 4, respondent, self.f_cell)
            when = local_time(d.received)
            if when:
                ws.write_datetime(i, 5, when, self.f_date)
            else:
                write_text(ws, i, 5, "", self.f_cell)
            write_text(ws, i, 6, what.strip(), self.f_cell)
            write_text(ws, i, 7, d.correction, self.f_cell)
            write_text(ws, i, 8, d.file, self.f_cell)
            self.fit(ws, i, [STATUS_LABEL[d.status], d.department, contact.line() if contact else "",
                             contact.email if contact else "", respondent, "", what.strip(), d.correction, d.file])
        ws.autofilter(3, 0, 3 + max(len(rows), 1), 8)
        ws.activate()

    def problems(self) -> None:
        ws = self.sheet("問題一覧", "問題一覧", [
            ("重大度", 8), ("所管課", 14), ("施策番号", 7), ("項目", 12), ("セル", 6), ("内容", 60),
            ("ファイル", 30)])
        order = {P.ERROR: 0, P.WARNING: 1, P.NOTICE: 2}
        rows = sorted(self.result.problems, key=lambda p: (order[p.severity], p.department, p.file))
        for i, p in enumerate(rows, 4):
            values = [P.SEVERITY_LABEL[p.severity], p.department, p.measure, p.field, p.cell, p.message, p.file]
            for c, value in enumerate(values):
                write_text(ws, i, c, value, self.f_cell)
            self.fit(ws, i, values)
        ws.autofilter(3, 0, 3 + max(len(rows), 1), 6)

    def replacements(self) -> None:
        ws = self.sheet("差し替え", "回答の差し替え", [
            ("所管課", 14), ("施策番号", 7), ("項目", 12), ("変更前", 30), ("変更後", 30),
            ("前の提出（記入者）", 26), ("新しい提出（記入者）", 26)])
        r = 4
        for rep in self.result.replacements:
            for c in rep.changes:
                old = f"{rep.old_file}" + (f"（{rep.old_respondent}）" if rep.old_respondent else "")
                new = f"{rep.new_file}" + (f"（{rep.new_respondent}）" if rep.new_respondent else "")
                for col, value in enumerate((rep.department, c.measure, c.field)):
                    write_text(ws, r, col, value, self.f_cell)
                write_value(ws, r, 3, "（なし）" if c.old is None else c.old, self.f_cell)
                write_value(ws, r, 4, "（なし）" if c.new is None else c.new, self.f_cell)
                write_text(ws, r, 5, old, self.f_cell)
                write_text(ws, r, 6, new, self.f_cell)
                self.fit(ws, r, [rep.department, c.measure, c.field, str(c.old), str(c.new), old, new])
                r += 1
        if r == 4:
            write_text(ws, 4, 0, "差し替えはありません。", self.f_note)

    def skipped(self) -> None:
        ws = self.sheet("読み飛ばし", "読み飛ばしたファイル", [("ファイル", 50), ("理由", 70)])
        for i, k in enumerate(self.result.skipped, 4):
            write_text(ws, i, 0, k["file"], self.f_cell)
            write_text(ws, i, 1, k["reason"], self.f_cell)
            self.fit(ws, i, [k["file"], k["reason"]])
        if not self.result.skipped:
            write_text(ws, 4, 0, "読み飛ばしたファイルはありません。", self.f_note)

    def history(self, history: list[dict[str, Any]]) -> None:
        ws = self.sheet("受付履歴", "受付履歴（これまでに受け付けたすべてのファイル）", [
            ("ファイル", 40), ("所管課", 14), ("保存日時", 14), ("初回受付", 14), ("結果", 18),
            ("エラー", 6), ("SHA-256（先頭）", 18)])
        for i, h in enumerate(history, 4):
            outcome = "調査票として受付" if h["outcome"] == "identified" else P.short(h["outcome"])
            write_text(ws, i, 0, h["path"], self.f_cell)
            write_text(ws, i, 1, h["department"] or "", self.f_cell)
            for col, key in ((2, "saved_at"), (3, "first_seen")):
                when = local_time(h[key] or "")
                if when:
                    ws.write_datetime(i, col, when, self.f_date)
                else:
                    write_text(ws, i, col, "", self.f_cell)
            write_text(ws, i, 4, outcome, self.f_cell)
            self.fit(ws, i, [h["path"], h["department"] or "", "", "", outcome])
            write_value(ws, i, 5, h["errors"], self.f_count)
            write_text(ws, i, 6, (h["sha256"] or "")[:16], self.f_cell)
