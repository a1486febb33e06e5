"""Checking one returned form against the survey: raw cells in, answers and problems out.

Pure logic, no I/O. Excel lets a paste bypass a dropdown and LibreOffice or another tool
may have saved the file, so every input cell is checked again here: choices after width
and space normalisation, numbers, dates, lengths, formulas and error values; rows are
matched by 施策番号, not by position, so sorted or moved rows still read correctly.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

from . import problems as P
from . import survey as S
from .forms import FIRST_ROW, ID_MARK, ended_values, fixed_value, is_ended
from .forms import form_version as current_form_version
from .intake import ID_SHEET, RawCell, RawWorkbook
from .master import Loaded, Measure
from .problems import Problem
from .textnorm import measure_key, squash
from .xlsxout import col_letter


@dataclass
class Submission:
    """One returned file, identified (or not), with what it answered and what is wrong."""

    file: str
    sha256: str = ""
    size: int = 0
    mtime: str = ""
    saved_at: str = ""
    department: str = ""
    form_version: str = ""
    answers: dict[str, dict[str, object]] = field(default_factory=dict)  # measure -> field -> value
    typed: dict[str, dict[str, object]] = field(default_factory=dict)  # as typed, for corrections
    problems: list[Problem] = field(default_factory=list)
    identified: bool = False

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == P.WARNING for p in self.problems)

    def add(self, code: str, **kw) -> None:
        kw.setdefault("department", self.department)
        self.problems.append(P.make(code, file=self.file, **kw))


def identify(raw: RawWorkbook) -> dict[str, str]:
    """The identification record: the hidden sheet, else the custom document properties."""
    cells = raw.cells.get(ID_SHEET, {})
    record: dict[str, str] = {}
    columns: dict[str, str] = {}
    rows: dict[str, list[str]] = {}
    by_row: dict[int, dict[str, object]] = {}
    for ref, cell in cells.items():
        m = re.match(r"([A-Z]+)(\d+)$", ref)
        if m:
            by_row.setdefault(int(m.group(2)), {})[m.group(1)] = cell.value
    for _r, row in sorted(by_row.items()):
        kind, key, value = (_text(row.get(c)) for c in "ABC")
        if kind == "column":
            columns[key] = value
        elif kind == "measure":
            rows.setdefault(key, []).append(value)
        elif kind == "mark":
            record["mark"] = key
        elif kind:
            record[kind] = key
    if record.get("mark") != ID_MARK:
        record = {}
        props = raw.custom
        if props.get("xlsx_tool_survey"):
            record = {"survey": props["xlsx_tool_survey"], "fiscal_year": props.get("xlsx_tool_year", ""),
                      "department": props.get("xlsx_tool_department", "")}
    record["_columns"] = columns  # type: ignore[assignment]
    return record


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_submission(loaded: Loaded, raw: RawWorkbook, file: str, mtime: str = "") -> Submission:
    """Identify and validate one read file."""
    sub = Submission(file=file, sha256=raw.sha256, size=raw.size, mtime=mtime, saved_at=raw.modified)
    if raw.failure:
        detail = raw.detail
        extra = {"seconds": detail} if raw.failure == "reader-timeout" else {"detail": detail}
        sub.add(raw.failure, **extra)
        return sub
    survey = loaded.survey
    record = identify(raw)
    if not record.get("survey"):
        sub.add("not-a-form")
        return sub
    if record["survey"] != survey.id:
        sub.add("other-survey", value=record["survey"])
        return sub
    if record.get("fiscal_year") != str(survey.fiscal_year):
        sub.add("other-year", value=record.get("fiscal_year", "?"), expected=survey.fiscal_year)
        return sub
    department = record.get("department", "")
    if department not in loaded.departments:
        sub.add("unknown-department", value=department)
        return sub
    sub.department = department
    sub.identified = True
    sub.form_version = record.get("form_version", "")
    measures = loaded.measures_of(department)
    cols = loaded.columns
    if sub.form_version and sub.form_version != current_form_version(survey, measures, cols):
        sub.add("old-form")
    sheet = record.get("sheet") or survey.input_sheet
    if sheet not in raw.cells:
        sub.add("missing-sheet", sheet=sheet)
        return sub
    _FormCheck(loaded, sub, raw, sheet, record).run(measures)
    return sub


_ROW = re.compile(r"(\d+)$")


class _FormCheck:
    def __init__(self, loaded: Loaded, sub: Submission, raw: RawWorkbook, sheet: str, record: dict):
        self.loaded, self.survey, self.sub, self.raw = loaded, loaded.survey, sub, raw
        self.sheet, self.cells = sheet, raw.cells[sheet]
        cols = loaded.columns
        mapping = record.get("_columns") or {}
        # Column letters from the identification record; the layout of this version as fallback.
        self.letters = {c.key: mapping.get(c.key) or col_letter(i) for i, c in enumerate(cols)}
        self.cols = cols
        # The record is untrusted too: a garbled row number falls back to this version's layout.
        text = str(record.get("first_row") or "")
        self.first_row = int(text) if text.isdigit() and 1 <= int(text) <= 1000 else FIRST_ROW + 1

    def at(self, key: str, row: int) -> tuple[str, RawCell | None]:
        ref = f"{self.letters[key]}{row}"
        return ref, self.cells.get(ref)

    def run(self, measures: tuple[Measure, ...]) -> None:
        mine = {m.number: m for m in measures}
        everyone = self.loaded.by_number
        found: dict[str, list[int]] = {}
        # Only rows that hold cells: one stray cell in row 1,048,576 must not mean a million rows.
        present = sorted({int(m.group(1)) for ref in self.cells if (m := _ROW.search(ref))})
        number_letter = self.letters[S.COL_NUMBER]
        for row in (r for r in present if r >= self.first_row):
            ref, cell = self.at(S.COL_NUMBER, row)
            number = measure_key(cell.value) if cell and cell.kind != "e" else ""
            if not number:
                if any(self.at(c.key, row)[1] is not None and self.at(c.key, row)[1].value not in (None, "")
                       for c in self.cols if c.input):
                    self.sub.add("measure-added", sheet=self.sheet, cell=ref, measure="（空欄）")
                continue
            found.setdefault(number, []).append(row)
        for number, rows in found.items():
            ref = f"{number_letter}{rows[0]}"
            if number not in mine:
                owner = everyone.get(number)
                if owner:
                    self.sub.add("measure-other-department", sheet=self.sheet, cell=ref,
                                 measure=number, value=owner.department)
                else:
                    self.sub.add("measure-added", sheet=self.sheet, cell=ref, measure=number)
                continue
            if len(rows) > 1:
                self.sub.add("duplicate-row", sheet=self.sheet, cell=f"{number_letter}{rows[1]}",
                             measure=number)
            self.check_row(mine[number], rows[0])
        for number in mine:
            if number not in found:
                self.sub.add("measure-missing", sheet=self.sheet, measure=number)

    def check_row(self, m: Measure, row: int) -> None:
        sub, survey = self.sub, self.survey
        for c in self.cols:
            if c.input or c.key == S.COL_NUMBER:
                continue
            ref, cell = self.at(c.key, row)
            expected = fixed_value(c, m)
            got = _text(cell.value) if cell else ""
            if squash(got) != squash(expected):
                sub.add("fixed-changed", sheet=self.sheet, cell=ref, measure=m.number,
                        field=c.key, expected=expected, value=got)
        answers: dict[str, object] = {}
        typed: dict[str, object] = {}
        ended = is_ended(survey, m)
        fixed = ended_values(survey) if ended else {}
        for f in survey.fields:
            ref, cell = self.at(f.name, row)
            where = {"sheet": self.sheet, "cell": ref, "measure": m.number, "field": f.name}
            if f.name in fixed:
                got = _text(cell.value) if cell else ""
                if got != fixed[f.name]:
                    sub.add("ended-changed", expected=fixed[f.name], **where)
                answers[f.name] = fixed[f.name]
                continue
            if ended:
                value = cell.value if cell and cell.kind != "e" else None
                if value not in (None, ""):
                    answers[f.name] = value
                continue
            if cell is not None and cell.value is not None:
                typed[f.name] = cell.value
            value = self.read_value(f, cell, where)
            if value is not None:
                answers[f.name] = value
        sub.answers[m.number] = answers
        sub.typed[m.number] = typed

    def read_value(self, f: S.Field, cell: RawCell | None, where: dict) -> object | None:
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
        if value is None:
            if f.required:
                sub.add("required", **where)
            return None
        if f.type == "choice":
            return self.read_choice(f, value, where)
        if f.type == "number":
            return read_number(f, value, cell.kind if cell else "s", sub, where)
        if f.type == "date":
            return read_date(value, cell.kind if cell else "s", self.raw.date1904, sub, where)
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


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def read_number(f: S.Field, value: object, kind: str, sub: Submission, where: dict) -> float | None:
    if isinstance(value, bool):
        sub.add("not-a-number", value=value, **where)
        return None
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            sub.add("not-a-number", value=value, **where)
            return None
    else:
        text = squash(str(value)).replace(",", "").replace(" ", "")
        if not _NUMBER.match(text):
            sub.add("not-a-number", value=value, **where)
            return None
        number = float(text)
        if not math.isfinite(number):  # 「1e999」 is no figure a department means
            sub.add("not-a-number", value=value, **where)
            return None
        sub.add("normalized", value=value, normalized=_fmt(number), **where)
    if f.minimum is not None and number < f.minimum or f.maximum is not None and number > f.maximum:
        sub.add("out-of-range", value=_fmt(number),
                hint=f"{_fmt(f.minimum) if f.minimum is not None else ''}〜"
                     f"{_fmt(f.maximum) if f.maximum is not None else ''} の範囲で入力してください。", **where)
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _fmt(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else str(number)


_DATE_TEXT = re.compile(r"^(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?$")


def read_date(value: object, kind: str, date1904: bool, sub: Submission, where: dict) -> str | None:
    """Dates are kept as ISO text (YYYY-MM-DD)."""
    try:
        if isinstance(value, float) and kind == "n":
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
