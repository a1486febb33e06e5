"""The collection status workbook (回収状況.xlsx): per department, every problem, every file."""

from __future__ import annotations

import io

from .collect import STATUS_LABEL, CollectResult
from .master import Loaded
from .problems import SEVERITY_LABEL
from .xlsxout import close_to_bytes, new_workbook, ok


def status_workbook(loaded: Loaded, result: CollectResult, history: list[dict]) -> bytes:
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    cell = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    count = wb.add_format({"border": 1, "valign": "top"})
    colours = {"submitted": "#C6EFCE", "needs_fix": "#FFEB9C", "missing": "#FFC7CE"}
    status_fmt = {k: wb.add_format({"border": 1, "bg_color": v}) for k, v in colours.items()}

    def table(name: str, headers: list[tuple[str, int]], rows: list[list[object]], fmt_for=None):
        ws = wb.add_worksheet(name)
        for c, (h, width) in enumerate(headers):
            ok(ws.write_string(0, c, h, head), h)
            ws.set_column(c, c, width)
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row):
                fmt = fmt_for(r - 1, c) if fmt_for else None
                if isinstance(value, int | float) and not isinstance(value, bool):
                    ok(ws.write_number(r, c, value, fmt or count), name)
                else:  # department text stays text
                    ok(ws.write_string(r, c, "" if value is None else str(value), fmt or cell), name)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
        return ws

    s = loaded.survey
    deps = result.departments
    ws = table("回収状況", [("所管課", 18), ("状況", 8), ("ファイル", 50), ("受付日時", 22),
                          ("施策数", 8), ("エラー", 8), ("警告", 8)],
               [[d.department, STATUS_LABEL[d.status], d.file, d.received, d.measures, d.errors,
                 d.warnings] for d in deps],
               lambda r, c: status_fmt[deps[r].status] if c == 1 else None)
    ok(ws.write_string(len(deps) + 2, 0,
                       f"{s.year_label} {s.title}：提出済 {result.count('submitted')} 課、"
                       f"要修正 {result.count('needs_fix')} 課、未提出 {result.count('missing')} 課"), "summary")
    table("問題一覧", [("ファイル", 40), ("所管課", 16), ("シート", 10), ("セル", 8), ("施策番号", 8),
                     ("項目", 14), ("内容", 70), ("重大度", 8), ("コード", 18)],
          [[p.file, p.department, p.sheet, p.cell, p.measure, p.field, p.message,
            SEVERITY_LABEL[p.severity], p.code] for p in result.problems])
    table("読み飛ばし", [("ファイル", 50), ("理由", 60)],
          [[k["file"], k["reason"]] for k in result.skipped])
    table("受付履歴", [("ファイル", 50), ("所管課", 16), ("保存日時", 22), ("初回受付", 22),
                     ("結果", 16), ("エラー", 8), ("SHA-256", 20)],
          [[h["path"], h["department"] or "", h["saved_at"] or "", h["first_seen"], h["outcome"],
            h["errors"], h["sha256"]] for h in history])
    return close_to_bytes(wb, buffer)
