"""Checking one returned form against the survey: raw cells in, answers and problems out.

Pure logic, no I/O. Excel lets a paste bypass a dropdown and LibreOffice or another tool
may have saved the file, so every input cell is checked again here. Rows are matched by
施策番号 and columns by their header text (forms/layout.py), so sorted rows and inserted or
moved columns still read correctly, and a sheet whose columns cannot be told apart is
refused rather than read into the wrong fields.

This module is the one place that decides validity: a file answers only for its own
department's measures, and `Submission.invalid` lists those of its measures that carry an
error. The ledger stores that decision; nothing downstream decides it again.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from xlsx_tool import problems as P
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded, Measure, ended_values, is_ended
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.writer import REASON_HEADER
from xlsx_tool.intake.reader import RawCell, RawWorkbook
from xlsx_tool.problems import Problem
from xlsx_tool.textnorm import measure_key, squash
from xlsx_tool.wareki import fiscal_year_label


@dataclass
class Submission:
    """One returned file, identified (or not), with what it answered and what is wrong."""

    file: str  # relative to the survey folder, as shown (undecodable bytes replaced)
    path_bytes: bytes = b""  # the name exactly as the file system has it
    sha256: str = ""
    size: int = 0
    mtime: str = ""
    saved_at: str = ""
    department: str = ""
    form_version: str = ""
    identified: bool = False
    answers: dict[str, dict[str, object]] = field(default_factory=dict)  # own measure -> field -> value
    typed: dict[str, dict[str, object]] = field(default_factory=dict)  # as typed, for corrections
    invalid: set[str] = field(default_factory=set)  # own measures that carry an error
    problems: list[Problem] = field(default_factory=list)
    respondent: dict[str, str] = field(default_factory=dict)  # 記入者, 内線

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == P.WARNING for p in self.problems)

    def add(self, code: str, **kw: Any) -> None:
        kw.setdefault("department", self.department)
        self.problems.append(P.make(code, file=self.file, **kw))

    # --- the ledger's view ------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        """A ledger row (ledger.Ledger.record_collect)."""
        import json

        outcome = "identified" if self.identified else (self.problems[0].code if self.problems else "unknown")
        result = {"department": self.department, "form_version": self.form_version,
                  "identified": self.identified, "answers": self.answers, "typed": self.typed,
                  "invalid": sorted(self.invalid), "respondent": self.respondent,
                  "saved_at": self.saved_at, "problems": [p.as_dict() for p in self.problems]}
        return {"sha256": self.sha256, "path": self.file, "path_bytes": self.path_bytes,
                "size": self.size, "mtime": self.mtime, "saved_at": self.saved_at,
                "department": self.department or None, "form_version": self.form_version,
                "outcome": outcome, "errors": self.errors, "warnings": self.warnings,
                "result": json.dumps(result, ensure_ascii=False, default=str)}

    @classmethod
    def from_record(cls, result: dict[str, Any], file: str, path_bytes: bytes, sha256: str,
                    size: int, mtime: str) -> Submission:
        """A file already checked against the same definition and master, as the ledger has it."""
        problems = []
        for p in result.get("problems", []):
            p = {**p, "file": file}
            problems.append(Problem(**p))
        return cls(file=file, path_bytes=path_bytes, sha256=sha256, size=size, mtime=mtime,
                   saved_at=result.get("saved_at", ""), department=result.get("department", ""),
                   form_version=result.get("form_version", ""), identified=result.get("identified", False),
                   answers=result.get("answers", {}), typed=result.get("typed", {}),
                   invalid=set(result.get("invalid", [])), problems=problems,
                   respondent=result.get("respondent", {}))


def check_submission(loaded: Loaded, raw: RawWorkbook, file: str, mtime: str = "",
                     versions: dict[str, dict[str, list[str]]] | None = None) -> Submission:
    """Identify and validate one read file. `versions`: department -> form version -> its
    measures, from the ledger's distributions: a file identified by its document properties
    alone still tells a deleted row from a measure its form never had."""
    sub = Submission(file=file, sha256=raw.sha256, size=raw.size, mtime=mtime, saved_at=raw.modified)
    if raw.failure:
        extra = {"seconds": raw.detail} if raw.failure == "reader-timeout" else {"detail": raw.detail}
        sub.add(raw.failure, **extra)
        return sub
    survey = loaded.survey
    record = L.read_record(raw)
    if record is None:
        sub.add("not-a-form")
        return sub
    if record.survey != survey.id:
        sub.add("other-survey", value=record.survey)
        return sub
    if record.fiscal_year != str(survey.fiscal_year):
        year = record.fiscal_year
        shown = fiscal_year_label(int(year)) if year.isdigit() and 1900 < int(year) < 2300 else f"「{year}」年度"
        sub.add("other-year", value=shown, expected=survey.year_label)
        return sub
    department = record.department
    if department not in loaded.departments:
        sub.add("unknown-department", value=department)
        return sub
    sub.department = department
    sub.identified = True
    sub.form_version = record.version
    measures = loaded.measures_of(department)
    cols = L.columns(loaded)
    current = L.form_version(survey, measures, cols)
    stale = bool(record.version) and record.version != current
    if stale:
        sub.add("old-form")
    on_form = record.measures or (versions or {}).get(department, {}).get(record.version)
    sheet = record.sheet if record.sheet in raw.cells else survey.input_sheet
    if sheet not in raw.cells:
        sub.add("missing-sheet", sheet=survey.input_sheet)
        sub.invalid = {m.number for m in measures}
        return sub
    _FormCheck(loaded, sub, raw, sheet, record, stale, on_form).run(measures)
    return sub


class _FormCheck:
    def __init__(self, loaded: Loaded, sub: Submission, raw: RawWorkbook, sheet: str,
                 record: L.FormRecord, stale: bool, on_form: tuple[str, ...] | list[str] | None):
        self.loaded, self.survey, self.sub, self.raw = loaded, loaded.survey, sub, raw
        self.sheet, self.cells, self.record = sheet, raw.cells[sheet], record
        self.cols = L.columns(loaded)
        self.stale = stale
        self.on_form = set(on_form) if on_form else None

    def run(self, measures: tuple[Measure, ...]) -> None:
        sub, sheet = self.sub, self.sheet
        located = L.locate(self.cells, self.cols, self.record)
        self.located = located
        sub.respondent = located.respondent
        mine = {m.number: m for m in measures}
        if not located.usable:
            if not located.header_row:
                detail = "見出し行（「施策番号」の列）が見つかりません"
            elif located.missing:
                detail = "見出し「" + "」「".join(h.replace("\n", "") for h in located.missing) + "」の列が見つかりません"
            else:
                detail = "、".join(f"見出し「{h.replace(chr(10), '')}」が {len(cs)} つの列（"
                                  + "・".join(L.column_letters(c) for c in cs) + " 列）にあります"
                                  for h, cs in located.doubled)
            sub.add("layout-changed", sheet=sheet, detail=detail)
            sub.invalid = set(mine)
            return
        if located.moved:
            sub.add("columns-moved", sheet=sheet)
        for c, text in located.unknown:
            if text != L.header_key(REASON_HEADER):
                sub.add("column-added", sheet=sheet, cell=L.cell_ref(located.header_row, c),
                        value=str(self.cells[located.header_row, c].value))  # a header found there
        for header in located.missing_fixed:
            sub.add("fixed-column-missing", sheet=sheet, value=header)  # fixed headers are one line
        number_col = located.columns[S.COL_NUMBER]
        input_cols = [located.columns[c.key] for c in self.cols if c.input]
        found: dict[str, list[int]] = {}
        # Only rows that hold cells: one stray cell in row 1,048,576 must not mean a million rows.
        for row in sorted({r for r, _c in self.cells if r > located.header_row}):
            cell = self.cells.get((row, number_col))
            number = measure_key(cell.value) if cell and cell.kind != "e" else ""
            if not number:
                if any(_filled(self.cells.get((row, c))) for c in input_cols):
                    sub.add("measure-added", sheet=sheet, cell=L.cell_ref(row, number_col), measure="（空欄）")
                continue
            found.setdefault(number, []).append(row)
        everyone = self.loaded.by_number
        for number, rows in found.items():
            ref = L.cell_ref(rows[0], number_col)
            if number not in mine:
                owner = everyone.get(number)
                if self.on_form is not None and number in self.on_form:
                    # on the form as made, taken away by a later master: not the department's doing
                    sub.add("measure-removed-after-form", sheet=sheet, cell=ref, measure=number,
                            value=f"（現在は {owner.department} の施策）" if owner else "")
                elif owner:
                    sub.add("measure-other-department", sheet=sheet, cell=ref, measure=number,
                            value=owner.department)
                else:
                    sub.add("measure-added", sheet=sheet, cell=ref, measure=number)
                continue
            if len(rows) > 1:
                sub.add("duplicate-row", sheet=sheet, cell=L.cell_ref(rows[1], number_col), measure=number)
            self.check_row(mine[number], rows[0])
        for number, m in mine.items():
            if number in found or is_ended(self.survey, m):
                continue  # an ended measure counts as 終了 whatever came back
            if self.on_form is not None and number not in self.on_form:
                sub.add("measure-added-after-form", sheet=sheet, measure=number)
            else:
                sub.add("measure-missing", sheet=sheet, measure=number)
        # The one decision: which of this department's measures carry an error.
        sub.invalid = {p.measure for p in sub.problems if p.is_error and p.measure in mine}

    def check_row(self, m: Measure, row: int) -> None:
        sub, survey, located = self.sub, self.survey, self.located
        for c in self.cols:
            if c.input or c.key == S.COL_NUMBER or c.key not in located.columns:
                continue
            col = located.columns[c.key]
            cell = self.cells.get((row, col))
            expected = L.fixed_value(c, m)
            got = _text(cell.value) if cell else ""
            if got == expected or squash(got) == squash(expected):
                continue
            where = {"sheet": self.sheet, "cell": L.cell_ref(row, col), "measure": m.number, "field": c.header}
            if self.stale:
                sub.add("master-changed-value", value=got, current=expected, **where)
            else:
                sub.add("fixed-changed", expected=expected, value=got, **where)
        answers: dict[str, object] = {}
        typed: dict[str, object] = {}
        ended = is_ended(survey, m)
        fixed = ended_values(survey) if ended else {}
        for f in survey.fields:
            col = located.columns[f.name]
            cell = self.cells.get((row, col))
            where = {"sheet": self.sheet, "cell": L.cell_ref(row, col), "measure": m.number, "field": f.name}
            if f.name in fixed:
                if cell is None or _text(cell.value) != fixed[f.name]:
                    sub.add("ended-changed", expected=fixed[f.name], **where)
                answers[f.name] = fixed[f.name]
                continue
            if cell is not None and _storable(cell, f):
                typed[f.name] = cell.value
            value = self.read_value(f, cell, where, required=f.required and not ended)
            if value is not None:
                answers[f.name] = value
        sub.answers[m.number] = answers
        sub.typed[m.number] = typed

    def read_value(self, f: S.Field, cell: RawCell | None, where: dict, required: bool) -> object | None:
        sub = self.sub
        if cell is not None and cell.kind == "e":
            sub.add("error-value", value=cell.value, **where)
            return None
        if cell is not None and cell.formula:
            if cell.value is None:
                sub.add("formula-no-value", **where)
                return None
            sub.add("formula-value", value=_text(cell.value), **where)
        value = None if cell is None else cell.value
        if isinstance(value, str) and not value.strip():
            value = None
        if cell is None or value is None:
            if required:
                sub.add("required", **where)
            return None
        if f.type == "choice":
            return self.read_choice(f, value, where)
        if f.type == "number":
            return read_number(f, value, cell.style, self.raw.date1904, sub, where)
        if f.type == "date":
            return read_date(value, cell.kind, self.raw.date1904, sub, where)
        text = _text(value) if not isinstance(value, str) else value
        if isinstance(value, bool):
            text = "TRUE" if value else "FALSE"
        limit = f.max_length or 32767
        if len(text) > limit:
            sub.add("too-long", length=len(text), limit=limit, **where)
        return text

    def read_choice(self, f: S.Field, value: object, where: dict) -> str | None:
        scale = self.survey.scales[f.scale or ""]
        typed = value if isinstance(value, str) else _text(value)  # spaces kept: they get a notice
        canonical = scale.lookup(typed)
        if canonical is None:
            self.sub.add("unknown-choice", value=typed.strip(), choices="、".join(scale.selectable), **where)
            return None
        if canonical not in scale.selectable:
            self.sub.add("not-selectable", value=typed, choices="、".join(scale.selectable), **where)
            return None
        if canonical != typed:
            self.sub.add("normalized", value=typed, normalized=canonical, **where)
        return canonical


def _filled(cell: RawCell | None) -> bool:
    return cell is not None and cell.value not in (None, "")


def _storable(cell: RawCell, f: S.Field) -> bool:
    """A typed value worth putting back on a correction copy (and into JSON)."""
    if cell.kind == "e" or cell.value is None:
        return False
    if cell.kind == "n":
        if not math.isfinite(float(cell.value)):  # type: ignore[arg-type]
            return False
        if f.type == "number" and cell.style:
            return False  # a date or % in a number field goes back blank, its reason beside it
    return True


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def read_number(f: S.Field, value: object, style: str, date1904: bool,
                sub: Submission, where: dict) -> float | int | None:
    if isinstance(value, bool):
        sub.add("not-a-number", value="TRUE" if value else "FALSE", **where)
        return None
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            sub.add("not-a-number", value=str(value), **where)
            return None
        if style == "date":
            sub.add("number-is-date", value=_serial_text(number, date1904), **where)
            return None
        if style == "percent":
            if not f.percent:
                sub.add("number-is-percent", value=f"{_fmt(number * 100)}%", **where)
                return None
            shown = number * 100
            sub.add("normalized", value=f"{_fmt(shown)}%", normalized=_fmt(round(shown, 10)), **where)
            number = round(shown, 10)
    else:
        text = squash(str(value)).replace(",", "").replace(" ", "")
        percent = f.percent and text.endswith("%")
        if percent:
            text = text[:-1]
        if not _NUMBER.match(text):
            sub.add("not-a-number", value=value, **where)
            return None
        number = float(text)
        if not math.isfinite(number):  # 「1e999」 is no figure a department means
            sub.add("not-a-number", value=value, **where)
            return None
        sub.add("normalized", value=value, normalized=_fmt(number), **where)
    if f.minimum is not None and number < f.minimum or f.maximum is not None and number > f.maximum:
        sub.add("out-of-range", value=_fmt(number),  # _fmt(None) is "": an open end stays empty
                hint=f"{_fmt(f.minimum)}〜{_fmt(f.maximum)} の範囲で入力してください。", **where)
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _serial_text(number: float, date1904: bool) -> str:
    try:
        base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)  # Excel's epoch
        day = base + dt.timedelta(days=number)
        return f"{day.year}/{day.month}/{day.day}" + (f" {day:%H:%M}" if number % 1 else "")
    except (OverflowError, ValueError):
        return _fmt(number)


def _fmt(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() and abs(number) < 1e16 else f"{number:g}"


_DATE_TEXT = re.compile(r"^(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?$")


def read_date(value: object, kind: str, date1904: bool, sub: Submission, where: dict) -> str | None:
    """Dates are kept as ISO text (YYYY-MM-DD)."""
    try:
        if isinstance(value, float) and kind == "n":
            if not math.isfinite(value):
                raise ValueError
            base = dt.date(1904, 1, 1) if date1904 else dt.date(1899, 12, 30)  # Excel's epoch
            return (base + dt.timedelta(days=int(value))).isoformat()
        text = squash(str(value))
        if kind == "d":
            return dt.date.fromisoformat(text[:10]).isoformat()
        m = _DATE_TEXT.match(text.replace(" ", ""))
        if m:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except (ValueError, OverflowError):
        pass
    sub.add("not-a-date", value=value, **where)
    return None
