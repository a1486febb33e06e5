"""The department forms (調査票): one workbook per department, written with xlsxwriter.

A form has the instructions (記入要領), the input sheet (調査票) and a very hidden
identification sheet (layout.py says what goes where). The same writer makes correction
copies: the form pre-filled with a department's answers, each problem cell marked by a
conditional format that clears once the value is fixed, and the reasons printed in a
「修正内容」 column beside the table (a comment alone does not reach paper).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded, Measure, ended_values, is_ended
from xlsx_tool.define.survey import Field, definitions_message
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.layout import Column
from xlsx_tool.xlsxout import (
    add_sheet,
    close_to_bytes,
    escape_header_text,
    fit_row,
    new_workbook,
    ok,
    page_points,
    page_starts,
    write_text,
)

# The colours the instructions name (INPUT_WORD, …): the words must stay true to them.
INPUT_FILL = "#FFF2CC"  # yellow: "type here"
REQUIRED_FILL = "#F4B183"  # orange: required and still empty
LOCKED_FILL = "#F2F2F2"  # grey: cannot be changed
HEADER_FILL = "#DDEBF7"
PROBLEM_FILL = "#FF7C80"  # red, on correction copies only: to be corrected
INPUT_WORD, REQUIRED_WORD, LOCKED_WORD, PROBLEM_WORD = "黄色", "オレンジ色", "灰色", "赤色"
LEGEND = f"{INPUT_WORD}のセルに入力してください（{REQUIRED_WORD}は未入力の必須項目）。選択項目はセルの▼から選んでください。"
ENDED_FILL = "#D9D9D9"
REASON_HEADER = "修正内容"
DEADLINE_PROPERTY = L.PROPERTY_PREFIX + "resubmit_deadline"

Answers = Mapping[str, Mapping[str, object]]  # measure number -> field -> value


@dataclass(frozen=True)
class Mark:
    """One problem to show on a correction copy."""

    code: str
    message: str
    value: object = None  # what the department sent, for the rule that clears the mark


@dataclass
class Correction:
    """What turns a form into a correction copy."""

    source: str  # the returned file's name
    count: int  # problems to fix
    deadline: str = ""
    marks: dict[tuple[str, str], list[Mark]] = field(default_factory=dict)  # (measure, field or "")
    general: list[str] = field(default_factory=list)  # problems of the file as a whole
    respondent: dict[str, str] = field(default_factory=dict)  # 記入者 and 内線 as the file had them

    def request(self) -> str:
        deadline = f"{self.deadline}までに" if self.deadline else ""
        text = (f"修正のお願い：ご提出いただいた調査票（{self.source}）に {self.count} 件の修正箇所があります。"
                f"{PROBLEM_WORD}のセルを、右端の「{REASON_HEADER}」欄のとおり修正し、{deadline}この調査票で"
                "再提出してください。")
        if self.general:
            text += "\nこのほか：" + "\n".join(self.general[:10])
            if len(self.general) > 10:
                text += f"\n（ほか {len(self.general) - 10} 件）"
        return text


def form_bytes(loaded: Loaded, department: str, answers: Answers | None = None,
               correction: Correction | None = None, version: str | None = None) -> bytes:
    """The department's form as .xlsx bytes; `answers` and `correction` make a correction copy.

    `version` is the form's `L.form_version`, when the caller has it already.
    """
    survey = loaded.survey
    measures = loaded.measures_of(department)
    cols = L.columns(loaded)
    version = version or L.form_version(survey, measures, cols)
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    writer = _FormWriter(wb, loaded, department, measures, cols, answers or {}, correction)
    writer.instructions()
    writer.input_sheet()
    writer.identification(version)
    wb.set_properties({
        "title": f"{survey.year_label} {survey.title}（{department}）",
        "subject": survey.title, "author": "xlsx-tool", "company": survey.contact,
        # A fixed creation time keeps the same inputs giving the same file; the save time
        # a department's Excel writes is what tells submissions apart.
        "created": dt.datetime(survey.fiscal_year, 4, 1),
    })
    for name, value in L.record_properties(survey, department, version).items():
        ok(wb.set_custom_property(name, value), f"property {name}")
    if correction is not None and correction.deadline:
        # read back by `mail`: a mail attaching this copy names the deadline the copy names
        ok(wb.set_custom_property(DEADLINE_PROPERTY, correction.deadline), "property deadline")
    return close_to_bytes(wb, buffer)


def contact_text(loaded: Loaded) -> str:
    return loaded.survey.contact


def return_text(loaded: Loaded) -> str:
    """Where the form goes back: survey.toml return_to, else the contact."""
    return loaded.survey.return_to or loaded.survey.contact


class _FormWriter:
    def __init__(self, wb, loaded: Loaded, department: str, measures: tuple[Measure, ...],
                 cols: tuple[Column, ...], answers: Answers, correction: Correction | None):
        self.wb, self.loaded, self.survey, self.department = wb, loaded, loaded.survey, department
        self.measures, self.cols, self.answers, self.correction = measures, cols, answers, correction
        base = {"valign": "top", "border": 1, "border_color": "#A6A6A6"}
        f = wb.add_format
        self.f_title = f({"bold": True, "font_size": 14})
        self.f_note = f({"valign": "top"})
        self.f_note_wrap = f({"valign": "top", "text_wrap": True})
        self.f_request = f({"bold": True, "font_color": "#C00000", "valign": "top", "text_wrap": True,
                            "border": 2, "border_color": "#C00000"})
        self.f_strong = f({"bold": True, "valign": "top"})
        self.f_label = f({**base, "bold": True, "bg_color": HEADER_FILL, "valign": "vcenter"})
        self.f_header = f({**base, "bold": True, "bg_color": HEADER_FILL, "text_wrap": True,
                           "align": "center", "valign": "vcenter"})
        self.f_fixed = f({**base, "text_wrap": True, "bg_color": LOCKED_FILL})
        self.f_input = f({**base, "locked": False, "bg_color": INPUT_FILL, "valign": "vcenter"})
        self.f_input_wrap = f({**base, "locked": False, "bg_color": INPUT_FILL, "text_wrap": True})
        # General, not "#,##0": Excel and LibreOffice give a typed 「1/2」 or 「75%」 a date or
        # percent format only in a General cell, and that format is how collect tells them apart.
        self.f_input_number = f({**base, "locked": False, "bg_color": INPUT_FILL, "align": "right"})
        self.f_input_date = f({**base, "locked": False, "bg_color": INPUT_FILL, "num_format": "yyyy/m/d"})
        self.f_ended = f({**base, "bg_color": ENDED_FILL, "font_color": "#595959", "text_wrap": True})
        self.f_problem_fixed = f({**base, "text_wrap": True, "bg_color": PROBLEM_FILL, "bold": True})
        self.f_reason = f({**base, "text_wrap": True, "font_color": "#C00000"})
        self.f_reason_head = f({**base, "bold": True, "bg_color": "#FCE4D6", "text_wrap": True,
                                "align": "center", "valign": "vcenter", "font_color": "#C00000"})
        self.f_mark = f({"bg_color": PROBLEM_FILL})
        self.f_required = f({"bg_color": REQUIRED_FILL})
        self.f_table = f({**base, "text_wrap": True})
        self.f_table_head = f({**base, "bold": True, "bg_color": HEADER_FILL})
        self.lists: Any = None  # the hidden list sheet, made when a list is too long to inline
        self.list_row = 0
        self.rating_col = next(i for i, c in enumerate(cols) if c.key == self.survey.rating_field)

    # --- the instructions sheet -------------------------------------------------------------
    def instructions(self) -> None:
        s, ws = self.survey, add_sheet(self.wb, self.survey.instructions_sheet)
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 80)
        ws.set_paper(9)
        ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.set_footer(f"&L{escape_header_text(self.department)}&R&P / &N")
        write_text(ws, 0, 0, f"{s.year_label} {s.title} 記入要領", self.f_title)
        r = 2
        if self.correction:
            ws.merge_range(r, 0, r, 1, "", self.f_request)
            write_text(ws, r, 0, self.correction.request(), self.f_request)
            fit_row(ws, r, [(self.correction.request(), 96)], minimum=30)
            r += 2
        contact = self.loaded.departments_list.get(self.department) if self.loaded.departments_list else None
        rows: list[tuple[str, str]] = [("所管課", self.department)]
        if contact and contact.line():
            rows.append(("ご担当", contact.line()))
        rows.append(("提出期限", s.deadline))
        if self.correction and self.correction.deadline:
            rows.append(("再提出期限", self.correction.deadline))
        rows += [("返送先", return_text(self.loaded)), ("問合せ先", contact_text(self.loaded)),
                 ("施策数", f"{len(self.measures)} 施策")]
        for label, value in rows:
            write_text(ws, r, 0, label, self.f_table_head)
            write_text(ws, r, 1, value, self.f_table)
            fit_row(ws, r, [(value, 80)])
            r += 1
        r += 1
        ended = any(is_ended(s, m) for m in self.measures)
        steps = [
            f"「{s.input_sheet}」シートの{INPUT_WORD}のセルに入力してください（{REQUIRED_WORD}は未入力の必須項目です）。",
            f"「{s.input_sheet}」シート上部の「記入者」「内線」も入力してください（内容の確認でご連絡することがあります）。",
            "評価などの選択項目は、セルを選ぶと表示される一覧（▼）から選んでください。",
            "数値は単位や「約」「%」を付けず、半角数字で入力してください。",
            "文章はセル内で改行できます（Alt + Enter）。行の高さは入力に合わせて広がります。",
            f"{LOCKED_WORD}のセルは変更できません。" + (f"「{S.ENDED}」の施策は入力不要です。" if ended else ""),
            f"入力後は上書き保存し、ファイルをそのまま返送先へお送りください。返送先：{return_text(self.loaded)}",
        ]
        dont = [
            "行や列の追加・削除、見出しの書き換え、シート名の変更・シートの削除はしないでください。",
            # Excel's own words (LibreOffice says 「値のみ貼り付け」)
            "他のファイルから書式ごと貼り付けないでください。貼り付けるときは、右クリックの「形式を選択して貼り付け」で"
            "「値」を選んでください。",
            "パスワードを付けて保存したり、別の形式（.xls、.ods など）で保存したりしないでください。",
            "他の課の調査票をコピーして使わないでください（調査票ごとに所管課が記録されています）。",
        ]
        for title, items in (("記入方法", steps), ("してはいけないこと", dont)):
            write_text(ws, r, 0, title, self.f_strong)
            r += 1
            for i, text in enumerate(items, 1):
                write_text(ws, r, 0, f"{i}.", self.f_note)
                write_text(ws, r, 1, text, self.f_note_wrap)
                fit_row(ws, r, [(text, 80)])
                r += 1
            r += 1
        for f in s.fields:
            if f.type != "choice":
                continue
            scale = s.scales[f.scale or ""]
            write_text(ws, r, 0, f"{f.name}の区分", self.f_strong)
            r += 1
            if not any(v.definition for v in scale.values):
                # nothing to say about each value: one line of the choices, not a table with an
                # empty 内容 column
                choices = "　／　".join(scale.selectable)
                write_text(ws, r, 0, f.name, self.f_table_head)
                write_text(ws, r, 1, choices, self.f_table)
                fit_row(ws, r, [(choices, 80)])
                r += 2
                continue
            write_text(ws, r, 0, f.name, self.f_table_head)
            write_text(ws, r, 1, "内容", self.f_table_head)
            r += 1
            for v in scale.values:
                write_text(ws, r, 0, v.value, self.f_table)
                write_text(ws, r, 1, v.definition or "", self.f_table)
                fit_row(ws, r, [(v.value, 16), (v.definition, 80)])
                r += 1
            r += 1
        write_text(ws, r, 0, "入力項目", self.f_strong)
        # the reason for a changed rating is said on the rating's line, not a line of its own: the
        # instructions of a correction copy (its request on top) fill their one page already; the
        # reason cell's header, highlight and input message say the rest
        listed = [f for f in s.fields if not f.required_when]
        for i, f in enumerate(listed):
            text = f"{f.name}{'（必須）' if f.required else ''}：{_kind_text(f)}" + (f"。{f.help}" if f.help else "")
            if f.name == s.rating_field and s.reason_field:
                text += f"。前年度から変えたときは「{s.reason_field}」も入力"
            write_text(ws, r + 1 + i, 1, text, self.f_note_wrap)
            fit_row(ws, r + 1 + i, [(text, 80)])
        ws.protect(s.password, {"format_columns": True, "format_rows": True})
        ws.activate()

    # --- the input sheet --------------------------------------------------------------------
    def input_sheet(self) -> None:
        s, ws = self.survey, add_sheet(self.wb, self.survey.input_sheet)
        self.ws = ws
        cols = self.cols
        last_col = len(cols) - 1 + (1 if self.correction else 0)
        self.widths = L.widths(cols, (_REASON_WIDTH,) if self.correction else ())
        total_width = sum(self.widths)
        write_text(ws, L.TITLE_ROW, 0, f"{s.year_label} {s.title} 調査票", self.f_title)
        # one deadline a page: a correction copy names the one it asks for, as its request does
        due = ("再提出期限", self.correction.deadline) if self.correction and self.correction.deadline \
            else ("提出期限", s.deadline)
        write_text(ws, L.INFO_ROW, 0, f"所管課：{self.department}　　{due[0]}：{due[1]}　　"
                                      f"返送先：{return_text(self.loaded)}", self.f_note)
        given = self.correction.respondent if self.correction else {}
        for label, (label_col, input_col) in L.respondent_cells(cols).items():
            write_text(ws, L.RESPONDENT_ROW, label_col, label, self.f_label)
            if given.get(label):  # a correction copy keeps who filled the form in
                write_text(ws, L.RESPONDENT_ROW, input_col, given[label], self.f_input)
            else:
                ok(ws.write_blank(L.RESPONDENT_ROW, input_col, None, self.f_input), label)
        if self.correction:
            request = self.correction.request()
            ws.merge_range(L.NOTE_ROW, 0, L.NOTE_ROW, last_col, "", self.f_request)
            write_text(ws, L.NOTE_ROW, 0, request, self.f_request)
            fit_row(ws, L.NOTE_ROW, [(request, total_width)], minimum=30)
        else:
            write_text(ws, L.NOTE_ROW, 0, LEGEND, self.f_note)
        for c, col in enumerate(cols):
            write_text(ws, L.HEADER_ROW, c, col.header, self.f_header)
            ws.set_column(c, c, self.widths[c])
        if self.correction:
            write_text(ws, L.HEADER_ROW, len(cols), REASON_HEADER, self.f_reason_head)
            ws.set_column(len(cols), len(cols), self.widths[-1])
        fit_row(ws, L.HEADER_ROW, [(col.header, self.widths[c]) for c, col in enumerate(cols)])
        ended = ended_values(s)
        for i, m in enumerate(self.measures):
            self._row(L.FIRST_ROW + i, m, ended)
        self._validations()
        last_row = L.FIRST_ROW + max(len(self.measures), 1) - 1
        ws.freeze_panes(L.FIRST_ROW, 3)
        ws.set_paper(9)  # A4
        ws.set_landscape()
        ws.fit_to_pages(1, 0)  # one page wide, as many tall as needed
        ws.repeat_rows(L.HEADER_ROW)
        ws.print_area(0, 0, last_row, last_col)
        ws.set_margins(left=L.MARGIN, right=L.MARGIN, top=0.5, bottom=0.5)
        breaks = page_starts(ws, L.HEADER_ROW, L.FIRST_ROW, last_row,
                             page_points(self.widths, True, (L.MARGIN, L.MARGIN, 0.5, 0.5), exact=True))
        if breaks:
            ws.set_h_pagebreaks(breaks)
        ws.set_footer(f"&L所管課：{escape_header_text(self.department)}&R&P / &N ページ")
        # 施策番号 is text on purpose (「No.4」 and 「4」 alike): no green "number stored as text" marks
        ws.ignore_errors({"number_stored_as_text": f"A{L.FIRST_ROW + 1}:{L.column_letters(last_col + 1)}{last_row + 1}"})
        ws.protect(s.password, {"format_columns": True, "format_rows": True})

    def _row(self, r: int, m: Measure, ended: dict[str, str]) -> None:
        ws, marks = self.ws, self.correction.marks if self.correction else {}
        is_end = is_ended(self.survey, m)
        given = self.answers.get(m.number, {})
        reasons: list[str] = []
        shown: list[tuple[str, float]] = []  # what the row's height must fit
        long_text = False
        for c, col in enumerate(self.cols):
            if not col.input:
                row_marks = marks.get((m.number, "")) if c == 0 else None
                fmt = self.f_problem_fixed if row_marks else self.f_fixed
                text = L.fixed_value(col, m)
                write_text(ws, r, c, text, fmt)
                shown.append((text, self.widths[c]))
                reasons += [mk.message for mk in row_marks or ()]
                continue
            if is_end:
                write_text(ws, r, c, ended.get(col.key, ""), self.f_ended)
                continue
            value = given.get(col.key)
            self._write_answer(r, c, col.field, value)
            if value not in (None, ""):
                shown.append((str(value), self.widths[c]))
            long_text = long_text or bool(col.field and col.field.type == "text" and (col.field.max_length or 0) > 100)
            cell_marks = marks.get((m.number, col.key))
            if cell_marks:
                changed = self._changed(r, m.previous_rating) if m.previous_rating and not is_end else ""
                self._mark(r, c, col.field, cell_marks, changed)
                # a message names its field already (「評価」の「良い」は…): no 「評価：」 before it
                reasons += [mk.message if f"「{col.key}」" in mk.message else f"{col.key}：{mk.message}"
                            for mk in cell_marks]
        if self.correction:
            reason = "\n".join(reasons)
            write_text(ws, r, len(self.cols), reason, self.f_reason)
            shown.append((reason, self.widths[-1]))
        # room to write by hand on paper; Excel grows the row further while typing
        fit_row(ws, r, shown, minimum=45 if long_text and not is_end else 0)

    def _mark(self, r: int, c: int, f: Field | None, marks: list[Mark], changed: str) -> None:
        """Red until the value changes to one that is no longer wrong (a conditional format)."""
        ref = L.cell_ref(r + 1, c + 1)
        rules = [rule for mk in marks if (rule := _still_wrong(ref, f, mk, changed))]
        formula = rules[0] if len(rules) == 1 else f"OR({','.join(rules)})"
        ok(self.ws.conditional_format(r, c, r, c, {"type": "formula", "criteria": "=" + formula,
                                                   "format": self.f_mark, "stop_if_true": True}),
           "mark")

    def _changed(self, r: int, previous: str) -> str:
        """An Excel formula, TRUE while row r's rating is chosen and is not `previous` (its
        前年度評価); relative to the row, so one rule serves every row of that 前年度評価."""
        rating = f"${L.column_letters(self.rating_col + 1)}{r + 1}"
        return f'AND(LEN({rating})>0,{rating}<>{_excel_text(previous)})'

    def _input_format(self, f: Field | None):
        if f is None:
            return self.f_input
        return {"number": self.f_input_number, "date": self.f_input_date,
                "text": self.f_input_wrap}.get(f.type, self.f_input)

    def _write_answer(self, r: int, c: int, f: Field | None, value: object) -> None:
        ws, fmt = self.ws, self._input_format(f)
        if value is None or value == "":
            ok(ws.write_blank(r, c, None, fmt), "blank")
        elif isinstance(value, bool):
            write_text(ws, r, c, "TRUE" if value else "FALSE", fmt)
        elif isinstance(value, int | float):
            if value != value or value in (float("inf"), float("-inf")):  # Excel has no NaN/inf
                ok(ws.write_blank(r, c, None, fmt), "blank")
            else:
                ok(ws.write_number(r, c, value, fmt), "number")
        elif isinstance(value, dt.datetime | dt.date):
            if not isinstance(value, dt.datetime):
                value = dt.datetime.combine(value, dt.time())
            ok(ws.write_datetime(r, c, value, fmt), "date")
        else:
            write_text(ws, r, c, str(value), fmt)

    def _validations(self) -> None:
        ws = self.ws
        if not self.measures:
            return
        r1, r2 = L.FIRST_ROW, L.FIRST_ROW + len(self.measures) - 1
        for c, col in enumerate(self.cols):
            f = col.field
            if f is None:
                continue
            if f.required_when == S.RATING_CHANGED:
                self._reason_rules(c, f)
                continue
            ok(ws.data_validation(r1, c, r2, c, self._validation(f)), f"validation {f.name}")
            if f.required:
                # Highlight empty required cells until filled, ended rows excluded.
                for a, b in self._open_row_runs():
                    ok(ws.conditional_format(a, c, b, c, {"type": "blanks", "format": self.f_required}),
                       f"highlight {f.name}")

    def _reason_rules(self, c: int, f: Field) -> None:
        """The reason for a changed rating: the rows sharing a 前年度評価 get an input message naming
        it, and a highlight (orange, as an empty required cell) while their rating differs from it
        and no reason is typed. Rows without a previous rating (new measures) are told that nothing
        is needed; ended rows are locked and need nothing.

        One rule per previous value over all its rows, not one per row: xlsxwriter spends ~0.3 ms
        writing each rule's formula, and a rule per row was a third of a 20-measure form's time. The
        rows are a range list in one column, topmost first (「H6:H7 H9」): Excel takes a rule's formula
        relative to the top-left cell of its first range, and LibreOffice highlights every range of
        it by its own row (tests/test_reasons.py prints one)."""
        ws = self.ws
        rows: dict[str, list[tuple[int, int]]] = {}  # 前年度評価 -> its runs of rows, top down
        for i, m in enumerate(self.measures):
            r = L.FIRST_ROW + i
            if is_ended(self.survey, m):
                continue
            runs = rows.setdefault(m.previous_rating, [])
            if runs and runs[-1][1] == r - 1:
                runs[-1] = (runs[-1][0], r)
            else:
                runs.append((r, r))
        letter = L.column_letters(c + 1)
        for previous, runs in rows.items():
            first, last = runs[0][0], runs[-1][1]
            where = " ".join(f"{letter}{a + 1}" if a == b else f"{letter}{a + 1}:{letter}{b + 1}" for a, b in runs)
            rule = self._validation(f)
            rule["multi_range"] = where
            if previous:
                rule["input_message"] = _clip(
                    f"前年度評価は「{previous}」です。評価を「{previous}」から変えた場合は、変えた理由を"
                    f"入力してください（{f.max_length or 32767}文字以内）。" + (f"{f.help}" if f.help else ""))
                top = self._changed(first, previous)
                ok(ws.conditional_format(first, c, last, c, {
                    "type": "formula", "criteria": f"=AND(LEN({letter}{first + 1})=0,{top})",
                    "format": self.f_required, "multi_range": where}), f"highlight {f.name}")
            else:
                rule["input_message"] = "前年度評価のない施策のため、入力は不要です。"
            ok(ws.data_validation(first, c, last, c, rule), f"validation {f.name}")

    def _open_row_runs(self) -> list[tuple[int, int]]:
        runs: list[tuple[int, int]] = []
        start = None
        for i, m in enumerate(self.measures):
            r = L.FIRST_ROW + i
            if is_ended(self.survey, m):
                if start is not None:
                    runs.append((start, r - 1))
                    start = None
            elif start is None:
                start = r
        if start is not None:
            runs.append((start, L.FIRST_ROW + len(self.measures) - 1))
        return runs

    def _validation(self, f: Field) -> dict:
        title = f.name[: S.INPUT_TITLE_MAX]  # Excel limit: input title ≤ 32 characters
        if f.type == "choice":
            scale = self.survey.scales[f.scale or ""]
            values = scale.selectable
            message = definitions_message(scale)
            if len(message) > S.INPUT_MESSAGE_MAX:  # Excel limit: input message ≤ 255
                message = "一覧から選んでください。各区分の内容は「記入要領」シートを参照してください。"
            source: object = list(values)
            if len(",".join(values)) > S.INLINE_LIST_MAX:  # Excel limit: inline list ≤ 255
                source = self._list_range(values)
            return {"validate": "list", "source": source, "input_title": title,
                    "input_message": message, "error_type": "stop",
                    "error_title": "選択肢にない値です",
                    "error_message": _clip("一覧（▼）から選んでください：" + " / ".join(values))}
        if f.type == "number":
            lo = f.minimum if f.minimum is not None else -1e15
            hi = f.maximum if f.maximum is not None else 1e15
            return {"validate": "decimal", "criteria": "between", "minimum": lo, "maximum": hi,
                    "input_title": title, "input_message": _clip(f.help or "半角数字で入力（単位は不要）"),
                    "error_type": "stop", "error_title": "数値を入力してください",
                    "error_message": "単位や「約」を付けず、半角数字だけを入力してください。"}
        if f.type == "date":
            return {"validate": "date", "criteria": "between",
                    "minimum": dt.date(1900, 1, 1), "maximum": dt.date(2100, 12, 31),
                    "input_title": title, "input_message": _clip(f.help or "2025/4/1 の形で入力"),
                    "error_type": "stop", "error_title": "日付を入力してください",
                    "error_message": "2025/4/1 の形で日付を入力してください。"}
        limit = f.max_length or 32767
        return {"validate": "length", "criteria": "<=", "value": limit, "input_title": title,
                "input_message": _clip(f"{limit}文字以内で入力" + (f"。{f.help}" if f.help else "")),
                "error_type": "stop", "error_title": "文字数が多すぎます",
                "error_message": f"{limit}文字以内にしてください。"}

    def _list_range(self, values: tuple[str, ...]) -> str:
        if self.lists is None:
            self.lists = self.wb.add_worksheet(L.LIST_SHEET)
            self.lists.hide()
            self.lists.protect(self.survey.password)
        start = self.list_row
        for i, v in enumerate(values):
            write_text(self.lists, start + i, 0, v)
        self.list_row += len(values) + 1
        return f"='{L.LIST_SHEET}'!$A${start + 1}:$A${start + len(values)}"

    # --- identification ---------------------------------------------------------------------
    def identification(self, version: str) -> None:
        ws = self.wb.add_worksheet(L.ID_SHEET)
        for r, row in enumerate(L.record_rows(self.survey, self.department, version, self.cols, self.measures)):
            for c, text in enumerate(row):
                write_text(ws, r, c, text)
        ws.protect(self.survey.password)
        ws.very_hidden()


_REASON_WIDTH = 30.0


def _still_wrong(ref: str, f: Field | None, mark: Mark, changed: str = "") -> str | None:
    """An Excel formula, TRUE while the cell still holds what was wrong. `changed`: TRUE while the
    row's rating differs from 前年度評価 (a reason is wanted only then)."""
    if mark.code == "reason-required":
        return f"AND(LEN({ref})=0,{changed})" if changed else f"LEN({ref})=0"
    if mark.code in ("required", "error-value", "formula-no-value", "number-is-date",
                     "number-is-percent", "measure-added-after-form"):
        return f"LEN({ref})=0"
    if mark.code == "too-long" and f is not None and f.max_length:
        return f"LEN({ref})>{f.max_length}"
    if mark.code == "out-of-range" and f is not None:
        tests = []
        if f.minimum is not None:
            tests.append(f"{ref}<{f.minimum:g}")
        if f.maximum is not None:
            tests.append(f"{ref}>{f.maximum:g}")
        return f"AND(ISNUMBER({ref}),OR({','.join(tests)}))" if tests else None
    if mark.code == "not-a-number":
        return f"NOT(ISNUMBER({ref}))"
    value = mark.value
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value \
            and value not in (float("inf"), float("-inf")):
        return f"{ref}={value!r}"
    if isinstance(value, str) and 0 < len(value) <= 200:  # Excel limit: 255 characters in a formula string
        return f'{ref}="{value.replace(chr(34), chr(34) * 2)}"'
    return f"LEN({ref})=0"


def _excel_text(value: str) -> str:
    """A string literal in an Excel formula (quotes doubled)."""
    return '"' + value.replace('"', '""') + '"'


def _kind_text(f: Field) -> str:
    return {"choice": "一覧から選択", "number": "数値", "date": "日付"}.get(
        f.type, f"文章、{f.max_length}文字以内")


def _clip(text: str, limit: int = S.INPUT_MESSAGE_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
