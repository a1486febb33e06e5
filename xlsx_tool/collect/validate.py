"""Checking one returned form against the survey: raw cells in, answers and problems out.

Pure logic, no I/O. Excel lets a paste bypass a dropdown and LibreOffice or another tool
may have saved the file, so every input cell is checked again here. Rows are matched by
施策番号 and columns by their header text (forms/layout.py), so sorted rows and inserted or
moved columns still read correctly, and a sheet whose columns cannot be told apart is
refused rather than read into the wrong fields.

This module is the one place that decides validity: a file answers only for its own
department's measures, and `Submission.invalid` lists those of its measures that carry an
error. The ledger stores that decision; nothing downstream decides it again.

A row is matched by 施策番号 and checked against the rest of the evidence: the 施策名 the row
shows, the name the form showed when it was made (its identification record, or the ledger's
record of the version), and the master now. When they disagree the row is a named problem,
or, where a renumbered master explains it, the answer follows its measure with a warning:
an answer never moves to another measure silently.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded, Measure, ended_values, is_ended
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.writer import REASON_HEADER
from xlsx_tool.intake.reader import RawCell, RawWorkbook, cell_text
from xlsx_tool.ledger import Submission
from xlsx_tool.textnorm import choice_key, measure_key, squash
from xlsx_tool.wareki import fiscal_year_label

# Which checker checked a stored result: bump it whenever a rule of this module (or of the reader
# it relies on) changes, and every file still in 2_回収 is checked again by the next collect.
CHECKER_VERSION = "7"  # 4: text fields read as shown (60%, 2025/4/1), <t> trimmed as Excel does; 5: a choice or number cell whose format shows another answer; 6: a hidden input sheet; 7: the reason for a changed rating (issue 26)

Versions = dict[str, dict[str, list[str]]]  # department -> form version -> its measures
Names = dict[str, dict[str, dict[str, str]]]  # department -> form version -> measure -> name shown


def check_submission(loaded: Loaded, raw: RawWorkbook, file: str, mtime: str = "",
                     versions: Versions | None = None, names: Names | None = None) -> Submission:
    """Identify and validate one read file. `versions` and `names`: what the ledger recorded of
    each form version sent (its measures, the names it showed): a file identified by its
    document properties alone still tells a deleted row from a measure its form never had."""
    sub = Submission(file=file, sha256=raw.sha256, size=raw.size, mtime=mtime, saved_at=raw.modified,
                     application=raw.application, zip_time=raw.zip_time)
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
        label = fiscal_year_label(int(year)) if year.isdigit() and 1900 < int(year) < 2300 else f"「{year}」年度"
        sub.add("other-year", value=label, expected=survey.year_label)
        return sub
    versions, names = versions or {}, names or {}
    on_form = record.measures or versions.get(record.department, {}).get(record.version)
    shown = {**names.get(record.department, {}).get(record.version, {}), **record.names}
    department = record.department
    if department not in loaded.departments:
        department = _successor(loaded, sub, record.department, on_form)
        if not department:
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
    sheet = record.sheet if record.sheet in raw.cells else survey.input_sheet
    if sheet not in raw.cells:
        sub.add("missing-sheet", sheet=survey.input_sheet)
        sub.invalid = {m.number for m in measures}
        return sub
    if dict(raw.sheets).get(sheet, "visible") != "visible":
        # what the department saw and typed is elsewhere (a look-alike sheet): nothing here is read
        sub.add("input-sheet-hidden", sheet=sheet)
        sub.invalid = {m.number for m in measures}
        return sub
    _FormCheck(loaded, sub, raw, sheet, record, stale, on_form, shown).run(measures)
    return sub


def _successor(loaded: Loaded, sub: Submission, named: str, on_form: tuple[str, ...] | list[str] | None) -> str:
    """The department a form of a department the master no longer has answers for.

    A department renamed (組織改正 on 1 April) keeps its measures: when every measure of the
    form that the master still has belongs to one department, the form is that department's,
    with a warning that says so. Otherwise the form is refused, naming where its measures are.
    """
    owners = list(dict.fromkeys(loaded.by_number[n].department for n in on_form or () if n in loaded.by_number))
    if len(owners) == 1:
        sub.add("department-renamed", value=named, current=owners[0], department=owners[0])
        return owners[0]
    if owners:
        sub.add("department-split", value=named, current="」「".join(owners[:5]))
    else:
        sub.add("unknown-department", value=named)
    return ""


def _same_name(a: str, b: str) -> bool:
    return choice_key(a) == choice_key(b)


class _FormCheck:
    def __init__(self, loaded: Loaded, sub: Submission, raw: RawWorkbook, sheet: str,
                 record: L.FormRecord, stale: bool, on_form: tuple[str, ...] | list[str] | None,
                 shown: dict[str, str]):
        self.loaded, self.survey, self.sub, self.raw = loaded, loaded.survey, sub, raw
        self.sheet, self.cells, self.record = sheet, raw.cells[sheet], record
        self.cols = L.columns(loaded)
        self.stale = stale
        self.shown = shown  # measure -> the name the form showed when it was made
        self.on_form_made = tuple(on_form) if on_form else None
        self.on_form: set[str] | None = None
        self.moved: dict[str, str] = {}
        self.refused: set[str] = set()  # measures whose row was refused: not "missing" as well
        self.intact: set[str] = set()

    def renumbered(self, numbers: list[str], visible: dict[str, str]) -> dict[str, str]:
        """Measures of the form the master has renumbered since: old number -> new number.

        The evidence is the name the form showed (its record; for a form whose record holds no
        names, the name its row shows): when the master now gives exactly that name another
        number, and the old number's name is no longer it.
        """
        by_name: dict[str, list[str]] = {}
        for m in self.loaded.master.measures:
            by_name.setdefault(choice_key(m.name), []).append(m.number)
        moved = {}
        for number in numbers:
            name = self.shown.get(number) or visible.get(number)
            now = self.loaded.by_number.get(number)
            if not name or (now is not None and _same_name(now.name, name)):
                continue
            found = by_name.get(choice_key(name), [])
            if len(found) == 1 and found[0] != number:
                moved[number] = found[0]
        return moved

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
        blank = [label for label in L.RESPONDENT if not located.respondent.get(label)]
        if blank:
            # who to call about the answers: a copy passed on or a resubmission often loses them
            _label, input_col = L.respondent_cells(self.cols)[blank[0]]
            sub.add("respondent-missing", sheet=sheet, cell=L.cell_ref(L.RESPONDENT_ROW + 1, input_col + 1),
                    value="".join(f"「{label}」" for label in blank))
        if located.moved:
            sub.add("columns-moved", sheet=sheet)
        for c, text in located.unknown:
            if text != L.header_key(REASON_HEADER):
                sub.add("column-added", sheet=sheet, cell=L.cell_ref(located.header_row, c),
                        value=str(self.cells[located.header_row, c].value))  # a header found there
        for header in located.missing_fixed:
            sub.add("fixed-column-missing", sheet=sheet, value=header)  # fixed headers are one line
        number_col = located.columns[S.COL_NUMBER]
        name_col = located.columns.get(S.COL_NAME)
        input_cols = [located.columns[c.key] for c in self.cols if c.input]
        rows: list[tuple[str, int, str | None]] = []  # (施策番号, row, the 施策名 it shows)
        # Only rows that hold cells: one stray cell in row 1,048,576 must not mean a million rows.
        for row in sorted({r for r, _c in self.cells if r > located.header_row}):
            cell = self.cells.get((row, number_col))
            number = measure_key(cell.value) if cell and cell.kind != "e" else ""
            if not number:
                if any(_filled(self.cells.get((row, c))) for c in input_cols):
                    sub.add("measure-added", sheet=sheet, cell=L.cell_ref(row, number_col), measure="（空欄）")
                continue
            name_cell = self.cells.get((row, name_col)) if name_col else None
            rows.append((number, row, _text(name_cell.value) if name_cell and name_cell.kind != "e" else None))
        if self.stale:
            visible = {n: text for n, _r, text in rows if text}
            self.moved = self.renumbered(list(dict.fromkeys([*(self.on_form_made or ()), *visible])), visible)
        if self.on_form_made is not None:
            self.on_form = {self.moved.get(n, n) for n in self.on_form_made}
        # measures whose own row is there as the form showed it: a copy of such a row under
        # another number is an added row, not the measure's answer moved
        self.intact = {n for n, _r, text in rows if text and n in self.shown and _same_name(text, self.shown[n])}
        found: dict[str, list[int]] = {}  # the measure each row answers -> its rows
        for number, row, name in rows:
            target = self.match(number, row, name, mine)
            if target:
                found.setdefault(target, []).append(row)
        for number, at in found.items():
            if len(at) > 1:
                sub.add("duplicate-row", sheet=sheet, cell=L.cell_ref(at[1], number_col), measure=number)
            self.check_row(mine[number], at[0])
        for number, m in mine.items():
            if number in found or is_ended(self.survey, m) or number in self.refused:
                continue  # an ended measure counts as 終了 whatever came back
            if self.on_form is not None and number not in self.on_form:
                sub.add("measure-added-after-form", sheet=sheet, measure=number)
            else:
                sub.add("measure-missing", sheet=sheet, measure=number)
        # The one decision: which of this department's measures carry an error.
        sub.invalid = {p.measure for p in sub.problems if p.is_error and p.measure in mine} | (self.refused & set(mine))

    def match(self, number: str, row: int, name: str | None, mine: dict[str, Measure]) -> str:
        """The measure a row answers, or "" (with the reason) when it answers none of the
        department's: the row's 施策番号, checked against the name it shows and the form's
        record, followed through a renumbered master."""
        sub, sheet = self.sub, self.sheet
        ref = L.cell_ref(row, self.located.columns[S.COL_NUMBER])
        shown = self.shown.get(number)
        if name is not None and (shown is None or not _same_name(name, shown)):
            other = next((n for n, text in self.shown.items() if n != number and _same_name(name, text)), None)
            if other is not None and other not in self.intact:  # a number typed over that measure's own
                owner = self.moved.get(other, other)
                self.refused.add(owner)
                sub.add("row-number-changed", sheet=sheet, cell=ref, measure=owner, value=name, other=other,
                        typed=number)
                return ""
        if name is not None and shown is not None and not _same_name(name, shown):
            if self.stale and number in mine | self.moved.keys():  # (a current form: check_row says so)
                sub.add("fixed-changed", sheet=sheet, cell=L.cell_ref(row, self.located.columns[S.COL_NAME]),
                        measure=self.moved.get(number, number), field=S.COL_NAME, expected=shown, value=name)
        if number in self.moved:
            new = self.moved[number]
            target = self.loaded.by_number[new]
            if new in mine:
                sub.add("measure-renumbered", sheet=sheet, cell=ref, measure=new, value=number,
                        current=new, name=target.name)
                return new
            sub.add("measure-removed-after-form", sheet=sheet, cell=ref, measure=number,
                    value=f"（現在は施策番号 {new}、{target.department} の施策）")
            return ""
        if number not in mine:
            holder = self.loaded.by_number.get(number)
            if self.on_form is not None and number in self.on_form:
                # on the form as made, taken away by a later master: not the department's doing
                sub.add("measure-removed-after-form", sheet=sheet, cell=ref, measure=number,
                        value=f"（現在は {holder.department} の施策）" if holder else "")
            elif holder:
                sub.add("measure-other-department", sheet=sheet, cell=ref, measure=number, value=holder.department)
            else:
                sub.add("measure-added", sheet=sheet, cell=ref, measure=number)
            return ""
        now = mine[number].name
        before = shown if shown is not None else name
        if self.stale and before and not _same_name(before, now):
            if self.named(before) > 1:  # it may be any of those measures: no answer is guessed
                self.refused.add(number)
                sub.add("measure-ambiguous-after-form", sheet=sheet, cell=ref, measure=number, value=before,
                        current=now)
                return ""
            sub.add("measure-renamed-after-form", sheet=sheet, cell=ref, measure=number, value=before, current=now)
        return number

    def named(self, name: str) -> int:
        """How many measures of the master now have this name."""
        key = choice_key(name)
        return sum(choice_key(m.name) == key for m in self.loaded.master.measures)

    def check_row(self, m: Measure, row: int) -> None:
        sub, survey, located = self.sub, self.survey, self.located
        for c in self.cols:
            if c.input or c.key == S.COL_NUMBER or c.key not in located.columns:
                continue
            if c.key == S.COL_NAME and self.stale:
                continue  # match() has weighed the name against the form and the master
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
        if not ended:
            self.check_reason(m, row, answers)
        sub.answers[m.number] = answers
        sub.typed[m.number] = typed

    def check_reason(self, m: Measure, row: int, answers: dict[str, object]) -> None:
        """A rating that differs from 前年度評価 needs its reason (the report's change sentence
        carries it); a reason beside an unchanged rating is kept as it is."""
        reason = self.survey.reason_field
        rating = answers.get(self.survey.rating_field)
        if reason is None or not m.previous_rating or rating is None or rating == m.previous_rating \
                or answers.get(reason):
            return
        col = self.located.columns[reason]
        cell = self.cells.get((row, col))
        # an error value or a formula without a result has its own problem on this cell already
        if cell is None or not (cell.kind == "e" or (cell.formula and cell.value is None)):
            self.sub.add("reason-required", sheet=self.sheet, cell=L.cell_ref(row, col), measure=m.number,
                         field=reason, previous=m.previous_rating, current=rating)

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
        if f.type in ("choice", "number") and cell.format and cell.style not in ("date", "percent"):
            shown, faithful = cell_text(cell, self.raw.date1904)
            if faithful and _shows_otherwise(value, shown):
                # a format makes Excel show another answer than the cell holds ("未"@ shows 未達成,
                # 0"0" shows 500 for 50, ;;; nothing): the department and the tool would disagree
                sub.add("shown-differs", value=_text(value), shown=shown.strip() or "（空欄）", **where)
                return None
        if f.type == "choice":
            return self.read_choice(f, value, where)
        if f.type == "number":
            return read_number(f, value, cell.style, self.raw.date1904, sub, where)
        if f.type == "date":
            return read_date(value, cell.kind, self.raw.date1904, sub, where)
        if isinstance(value, str) and not cell.format:
            text = value
        else:
            # Excel turns a date or a percentage typed into any cell into a number with a format:
            # the answer is what the department sees there (60%, 2025/4/1), not 0.6 or 45748;
            # and text shows through its format's text section ("未"@ shows 未達成, ;;; nothing)
            text, faithful = cell_text(cell, self.raw.date1904)
            if not isinstance(value, str):
                text = text.strip()  # a number format's padding (_) is layout, not text
            if not faithful:
                sub.add("shown-as-number", value=text, detail=cell.format, **where)
            if not text.strip():  # a format that shows nothing (;;;): the cell looks empty
                if required:
                    sub.add("required", **where)
                return None
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


_SHOWN_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.(\d+))?")


def _shows_otherwise(value: object, shown: str) -> bool:
    """Does a cell show another answer than the value it holds? Text must show as itself; a
    number must show as itself (rounded to the decimals shown, with separators or a unit)."""
    shown = shown.strip()
    if not isinstance(value, int | float) or isinstance(value, bool):
        return squash(shown) != squash(_text(value))
    for m in _SHOWN_NUMBER.finditer(shown):
        try:
            number = float(m.group(0).replace(",", ""))
        except ValueError:
            continue
        if round(float(value), len(m.group(1) or "")) == number:
            return False
    return True


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
