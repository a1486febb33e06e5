"""The department forms (調査票): one workbook per department, generated with xlsxwriter.

A form has three sheets: the instructions (記入要領), the input sheet (調査票), and a very
hidden identification sheet that lets collect recognise a returned file whatever its name.
The same function writes correction copies: a form pre-filled with a department's answers,
problem cells marked and carrying the message as a comment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import multiprocessing as mp
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import survey as S
from .master import Loaded, Master, Measure
from .survey import Field, Survey, definitions_message
from .textnorm import display_width, safe_file_name
from .xlsxout import (
    atomic_write,
    close_to_bytes,
    col_letter,
    escape_header_text,
    new_workbook,
    ok,
)

ID_SHEET = "_id"
LIST_SHEET = "_lists"
ID_MARK = "xlsx-tool-form"
ID_FORMAT = "1"
HEADER_ROW = 3  # zero-based: rows 1-3 hold the title and the notes
FIRST_ROW = HEADER_ROW + 1

INPUT_FILL = "#FFF2CC"  # light yellow: "type here"
REQUIRED_FILL = "#F8CBAD"  # light red: required and still empty
LOCKED_FILL = "#F2F2F2"
HEADER_FILL = "#DDEBF7"
PROBLEM_FILL = "#FF9999"


@dataclass(frozen=True)
class Column:
    key: str  # a master column name or a field name
    header: str
    input: bool
    width: float
    wrap: bool = False
    field: Field | None = None


def columns(survey: Survey, master: Master) -> tuple[Column, ...]:
    """Fixed columns (from the master), then one input column per field."""
    def fit(header: str, values: list[str], lo: int, hi: int) -> float:
        widest = max([display_width(header), *(display_width(v) for v in values)])
        return float(min(max(widest + 2, lo), hi))

    ms = master.measures
    cols = [
        Column(S.COL_NUMBER, S.COL_NUMBER, False, fit(S.COL_NUMBER, [m.number for m in ms], 8, 12)),
        Column("group", survey.group_label, False, fit(survey.group_label, [m.group for m in ms], 6, 12)),
        Column(S.COL_NAME, S.COL_NAME, False, fit(S.COL_NAME, [m.name for m in ms], 20, 40), True),
    ]
    optional = {
        S.COL_INDICATOR: (lambda m: m.indicator, 12, 30, True),
        S.COL_UNIT: (lambda m: m.unit, 6, 10, False),
        S.COL_TARGET: (lambda m: m.target, 8, 14, False),
        S.COL_PREV_RATING: (lambda m: m.previous_rating, 10, 14, False),
        S.COL_PREV_DIRECTION: (lambda m: m.previous_direction, 12, 16, False),
    }
    for name, (get, lo, hi, wrap) in optional.items():
        if master.has(name):
            cols.append(Column(name, name, False, fit(name, [get(m) for m in ms], lo, hi), wrap))
    for name in master.extra_columns:
        values = [dict(m.extra).get(name, "") for m in ms]
        cols.append(Column(name, name, False, fit(name, values, 8, 30), True))
    for f in survey.fields:
        if f.type == "choice":
            width = fit(f.name, list(survey.scales[f.scale or ""].names), 10, 24)
        elif f.type == "text":
            width = 40.0 if (f.max_length or 0) > 60 else fit(f.name, [], 12, 30)
        else:
            width = fit(f.name, ["0000000000"], 10, 16)
        cols.append(Column(f.name, f.name + ("（必須）" if f.required else ""), True,
                           float(f.width or width), f.type == "text", f))
    return tuple(cols)


def fixed_value(col: Column, m: Measure) -> str:
    return {
        S.COL_NUMBER: m.number, "group": m.group, S.COL_NAME: m.name,
        S.COL_INDICATOR: m.indicator, S.COL_UNIT: m.unit, S.COL_TARGET: m.target,
        S.COL_PREV_RATING: m.previous_rating, S.COL_PREV_DIRECTION: m.previous_direction,
    }.get(col.key, dict(m.extra).get(col.key, ""))


def is_ended(survey: Survey, m: Measure) -> bool:
    """終了 applies only where the rating scale has it (the 2020 style)."""
    return m.ended and S.ENDED in survey.rating_scale.names


def ended_values(survey: Survey) -> dict[str, str]:
    values = {survey.rating_field: S.ENDED}
    if survey.direction_field:
        values[survey.direction_field] = S.COMPLETED
    return values


def form_version(survey: Survey, measures: tuple[Measure, ...], cols: tuple[Column, ...]) -> str:
    """Changes when anything a department sees or answers changes; not with the date."""
    blob = json.dumps([survey.fingerprint(), [c.key for c in cols],
                       [[fixed_value(c, m) for c in cols if not c.input] for m in measures]],
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def form_file_name(survey: Survey, department: str) -> str:
    return safe_file_name(f"{survey.year_label}_{survey.title}_{department}")


Answers = Mapping[str, Mapping[str, object]]  # measure number -> field -> value
Marks = Mapping[tuple[str, str], str]  # (measure number, field or "") -> message


def form_bytes(loaded: Loaded, department: str, answers: Answers | None = None,
               marks: Marks | None = None, note: str = "") -> bytes:
    """The department's form as .xlsx bytes; `answers`/`marks` make a correction copy."""
    survey = loaded.survey
    measures = loaded.measures_of(department)
    cols = loaded.columns
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    writer = _FormWriter(wb, survey, department, measures, cols, answers or {}, marks or {})
    writer.instructions(note)
    writer.input_sheet()
    writer.identification(form_version(survey, measures, cols))
    wb.set_properties({
        "title": f"{survey.year_label} {survey.title}（{department}）",
        "subject": survey.title, "author": "xlsx-tool", "company": survey.contact,
        # A fixed creation time keeps the same inputs giving the same file; the save time
        # a department's Excel writes is what tells submissions apart.
        "created": dt.datetime(survey.fiscal_year, 4, 1),
    })
    for name, value in (("xlsx_tool_survey", survey.id), ("xlsx_tool_year", str(survey.fiscal_year)),
                        ("xlsx_tool_department", department)):
        ok(wb.set_custom_property(name, value), f"property {name}")
    return close_to_bytes(wb, buffer)


class _FormWriter:
    def __init__(self, wb, survey: Survey, department: str, measures: tuple[Measure, ...],
                 cols: tuple[Column, ...], answers: Answers, marks: Marks):
        self.wb, self.survey, self.department = wb, survey, department
        self.measures, self.cols, self.answers, self.marks = measures, cols, answers, marks
        base = {"valign": "top", "border": 1, "border_color": "#A6A6A6"}
        f = wb.add_format
        self.f_title = f({"bold": True, "font_size": 14})
        self.f_note = f({"font_size": 10})
        self.f_strong = f({"bold": True})
        self.f_header = f({**base, "bold": True, "bg_color": HEADER_FILL, "text_wrap": True,
                           "align": "center", "valign": "vcenter"})
        self.f_fixed = f({**base, "text_wrap": True, "bg_color": LOCKED_FILL})
        self.f_input = f({**base, "locked": False, "bg_color": INPUT_FILL})
        self.f_input_wrap = f({**base, "locked": False, "bg_color": INPUT_FILL, "text_wrap": True})
        self.f_input_number = f({**base, "locked": False, "bg_color": INPUT_FILL, "num_format": "#,##0.###"})
        self.f_input_date = f({**base, "locked": False, "bg_color": INPUT_FILL, "num_format": "yyyy/m/d"})
        self.f_ended = f({**base, "bg_color": "#D9D9D9", "font_color": "#595959", "text_wrap": True})
        self.f_problem = f({**base, "locked": False, "bg_color": PROBLEM_FILL, "text_wrap": True})
        self.f_required = f({"bg_color": REQUIRED_FILL})
        self.f_table = f({**base, "text_wrap": True})
        self.f_table_head = f({**base, "bold": True, "bg_color": HEADER_FILL})
        self.lists = None
        self.list_row = 0

    # --- the instructions sheet -------------------------------------------------------------
    def instructions(self, note: str) -> None:
        s, ws = self.survey, self.wb.add_worksheet(self.survey.instructions_sheet)
        ws.set_column(0, 0, 18)
        ws.set_column(1, 1, 90)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        rows: list[tuple[str, str]] = [
            ("所管課", self.department), ("提出期限", s.deadline), ("問合せ先", s.contact),
            ("施策数", f"{len(self.measures)} 施策")]
        ok(ws.write_string(0, 0, f"{s.year_label} {s.title} 記入要領", self.f_title), "title")
        r = 2
        if note:
            ok(ws.write_string(r, 0, "修正のお願い", self.f_strong), "note")
            ok(ws.write_string(r, 1, note, self.f_table), "note")
            r += 2
        for label, value in rows:
            ok(ws.write_string(r, 0, label, self.f_table_head), label)
            ok(ws.write_string(r, 1, value, self.f_table), label)
            r += 1
        r += 1
        steps = [
            f"「{s.input_sheet}」シートの黄色のセルに入力してください（赤色は未入力の必須項目です）。",
            "評価などの選択項目は、セルを選ぶと表示される一覧（▼）から選んでください。",
            "数値は単位を付けず半角数字で入力してください（「約50」などは不可）。",
            "灰色のセルは変更できません。終了した施策は入力不要です。",
            "入力後は上書き保存し、ファイルをそのまま返送してください（ファイル名は変更しても構いません）。",
        ]
        dont = [
            "行や列の追加・削除、シート名の変更・シートの削除はしないでください。",
            "他のファイルから書式ごと貼り付けないでください（貼り付けるときは「値のみ貼り付け」）。",
            "パスワードを付けて保存したり、古い形式（.xls）で保存したりしないでください。",
        ]
        for title, items in (("記入方法", steps), ("してはいけないこと", dont)):
            ok(ws.write_string(r, 0, title, self.f_strong), title)
            r += 1
            for i, text in enumerate(items, 1):
                ok(ws.write_string(r, 0, f"{i}.", self.f_note), title)
                ok(ws.write_string(r, 1, text, self.f_note), title)
                r += 1
            r += 1
        for f in s.fields:
            if f.type != "choice":
                continue
            scale = s.scales[f.scale or ""]
            ok(ws.write_string(r, 0, f"{f.name}の区分", self.f_strong), f.name)
            r += 1
            ok(ws.write_string(r, 0, f.name, self.f_table_head), f.name)
            ok(ws.write_string(r, 1, "内容", self.f_table_head), f.name)
            r += 1
            for v in scale.values:
                ok(ws.write_string(r, 0, v.value, self.f_table), v.value)
                ok(ws.write_string(r, 1, v.definition or "", self.f_table), v.value)
                r += 1
            r += 1
        fields = [f"{f.name}：{_kind_text(f)}{'（必須）' if f.required else ''}" for f in s.fields]
        ok(ws.write_string(r, 0, "入力項目", self.f_strong), "fields")
        for i, text in enumerate(fields):
            ok(ws.write_string(r + 1 + i, 1, text, self.f_note), "fields")
        ws.protect(s.password, {"format_columns": True, "format_rows": True})
        ws.activate()

    # --- the input sheet --------------------------------------------------------------------
    def input_sheet(self) -> None:
        s, ws = self.survey, self.wb.add_worksheet(self.survey.input_sheet)
        self.ws = ws
        last_col = len(self.cols) - 1
        ok(ws.write_string(0, 0, f"{s.year_label} {s.title} 調査票", self.f_title), "title")
        ok(ws.write_string(1, 0, f"所管課：{self.department}　　提出期限：{s.deadline}　　"
                                 f"問合せ先：{s.contact}", self.f_note), "note")
        ok(ws.write_string(2, 0, "黄色のセルに入力してください（赤色は未入力の必須項目）。"
                                 "選択項目はセルの▼から選んでください。", self.f_note), "note")
        ws.set_row(HEADER_ROW, 32)
        for c, col in enumerate(self.cols):
            ok(ws.write_string(HEADER_ROW, c, col.header, self.f_header), col.header)
            ws.set_column(c, c, col.width)
        ended = ended_values(s)
        # Rows do not grow by themselves in a written file; long answers get three lines.
        long_text = any(c.field and c.field.type == "text" and (c.field.max_length or 0) > 60
                        for c in self.cols)
        for i, m in enumerate(self.measures):
            r = FIRST_ROW + i
            if long_text:
                ws.set_row(r, 45)
            is_end = is_ended(s, m)
            given = self.answers.get(m.number, {})
            for c, col in enumerate(self.cols):
                mark = self.marks.get((m.number, col.key if col.input else ""))
                if not col.input:
                    value = fixed_value(col, m)
                    fmt = self.f_problem if (mark and c == 0) else self.f_fixed
                    ok(ws.write_string(r, c, value, fmt), f"{m.number} {col.key}")
                    if mark and c == 0:
                        ok(ws.write_comment(r, c, mark, {"x_scale": 2, "y_scale": 2}), "comment")
                    continue
                if is_end:
                    value = ended.get(col.key, "")
                    ok(ws.write_string(r, c, value, self.f_ended), f"{m.number} {col.key}")
                    continue
                fmt = self.f_problem if mark else self._input_format(col.field)
                self._write_answer(r, c, col.field, given.get(col.key), fmt)
                if mark:
                    ok(ws.write_comment(r, c, mark, {"x_scale": 2, "y_scale": 2}), "comment")
        self._validations()
        last_row = FIRST_ROW + max(len(self.measures), 1) - 1
        ws.freeze_panes(FIRST_ROW, 3)
        ws.set_paper(9)  # A4
        ws.set_landscape()
        ws.fit_to_pages(1, 0)  # one page wide, as many tall as needed
        ws.repeat_rows(HEADER_ROW)
        ws.print_area(0, 0, last_row, last_col)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_footer(f"&L所管課：{escape_header_text(self.department)}&R&P / &N ページ")
        ws.protect(s.password, {"format_columns": True, "format_rows": True})

    def _input_format(self, f: Field | None):
        if f is None:
            return self.f_input
        return {"number": self.f_input_number, "date": self.f_input_date,
                "text": self.f_input_wrap}.get(f.type, self.f_input)

    def _write_answer(self, r: int, c: int, f: Field | None, value: object, fmt) -> None:
        ws = self.ws
        if value is None or value == "":
            ok(ws.write_blank(r, c, None, fmt), "blank")
        elif isinstance(value, bool):
            ok(ws.write_string(r, c, str(value), fmt), "value")
        elif isinstance(value, int | float):
            ok(ws.write_number(r, c, value, fmt), "number")
        elif isinstance(value, dt.datetime | dt.date):
            if not isinstance(value, dt.datetime):
                value = dt.datetime.combine(value, dt.time())
            ok(ws.write_datetime(r, c, value, fmt), "date")
        else:
            ok(ws.write_string(r, c, str(value)[:32767], fmt), "text")

    def _validations(self) -> None:
        ws = self.ws
        if not self.measures:
            return
        r1, r2 = FIRST_ROW, FIRST_ROW + len(self.measures) - 1
        for c, col in enumerate(self.cols):
            f = col.field
            if f is None:
                continue
            ok(ws.data_validation(r1, c, r2, c, self._validation(f)), f"validation {f.name}")
            if f.required:
                # Highlight empty required cells until filled, ended rows excluded.
                for a, b in self._open_row_runs():
                    ok(ws.conditional_format(a, c, b, c, {"type": "blanks", "format": self.f_required}),
                       f"highlight {f.name}")

    def _open_row_runs(self) -> list[tuple[int, int]]:
        runs, start = [], None
        for i, m in enumerate(self.measures):
            r = FIRST_ROW + i
            if is_ended(self.survey, m):
                if start is not None:
                    runs.append((start, r - 1))
                    start = None
            elif start is None:
                start = r
        if start is not None:
            runs.append((start, FIRST_ROW + len(self.measures) - 1))
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
            self.lists = self.wb.add_worksheet(LIST_SHEET)
            self.lists.hide()
            self.lists.protect(self.survey.password)
        start = self.list_row
        for i, v in enumerate(values):
            ok(self.lists.write_string(start + i, 0, v), "list")
        self.list_row += len(values) + 1
        return f"='{LIST_SHEET}'!$A${start + 1}:$A${start + len(values)}"

    # --- identification ---------------------------------------------------------------------
    def identification(self, version: str) -> None:
        s, ws = self.survey, self.wb.add_worksheet(ID_SHEET)
        rows: list[tuple[str, str, str]] = [
            ("mark", ID_MARK, ID_FORMAT), ("survey", s.id, ""), ("fiscal_year", str(s.fiscal_year), ""),
            ("department", self.department, ""), ("form_version", version, ""),
            ("sheet", s.input_sheet, ""), ("header_row", str(HEADER_ROW + 1), ""),
            ("first_row", str(FIRST_ROW + 1), ""),
        ]
        rows += [("column", col.key, col_letter(c)) for c, col in enumerate(self.cols)]
        rows += [("measure", m.number, str(FIRST_ROW + 1 + i)) for i, m in enumerate(self.measures)]
        for r, (kind, key, value) in enumerate(rows):
            for c, text in enumerate((kind, key, value)):
                ok(ws.write_string(r, c, text), "identification")
        ws.protect(s.password)
        ws.very_hidden()


def _kind_text(f: Field) -> str:
    return {"choice": "一覧から選択", "number": "数値", "date": "日付"}.get(
        f.type, f"文章（{f.max_length}文字以内）")


def _clip(text: str, limit: int = S.INPUT_MESSAGE_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def asked_departments(loaded: Loaded) -> list[str]:
    """Departments with something to answer: one whose measures have all ended gets no form."""
    return [d for d in loaded.master.departments
            if not all(is_ended(loaded.survey, m) for m in loaded.measures_of(d))]


PARALLEL_FROM = 24  # below this, starting worker processes costs more than it saves
_worker_loaded: Loaded | None = None


def _init_worker(loaded: Loaded) -> None:
    global _worker_loaded
    _worker_loaded = loaded


def _write_form(job: tuple[str, Path]) -> str:
    department, path = job
    assert _worker_loaded is not None
    atomic_write(path, form_bytes(_worker_loaded, department))
    return department


def generate(loaded: Loaded, out_dir: Path | None = None,
             progress: Callable[[str], None] | None = None, workers: int | None = None) -> list[Path]:
    """Write every department's form into 1_配布/ and return the paths.

    Many forms are written by one process per core; the survey is sent to each worker once.
    """
    out_dir = out_dir or loaded.survey.path(S.FORMS_DIR)
    jobs = [(d, out_dir / form_file_name(loaded.survey, d)) for d in asked_departments(loaded)]
    workers = workers or os.cpu_count() or 1
    if len(jobs) < PARALLEL_FROM or workers < 2:
        _init_worker(loaded)
        for job in jobs:
            department = _write_form(job)
            if progress:
                progress(department)
        return [path for _d, path in jobs]
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(loaded,)) as pool:
        for department in pool.map(_write_form, jobs, chunksize=16):
            if progress:
                progress(department)
    return [path for _d, path in jobs]
