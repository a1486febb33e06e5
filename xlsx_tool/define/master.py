"""The measure master (施策マスタ): one row per measure, kept by the section in Excel.

Read from .xlsx or .csv (UTF-8 with or without BOM, or the Shift_JIS/cp932 that Excel on a
Japanese Windows writes for "CSV"). The master is as untrusted as a returned file: a
workbook goes through the same pre-flight and worker confinement (intake/), and every
problem is named in Japanese. Unknown columns are kept in order and shown on the forms.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlsx_tool import problems as P
from xlsx_tool.define import survey as S
from xlsx_tool.define.survey import Group, Survey
from xlsx_tool.intake.preflight import MAX_FILE_BYTES
from xlsx_tool.intake.reader import FIRST_SHEET, RawWorkbook, cell_text
from xlsx_tool.intake.sandbox import Pool, ReadTask
from xlsx_tool.problems import Problem
from xlsx_tool.textnorm import choice_key, measure_key, natural_key, squash

if TYPE_CHECKING:
    from xlsx_tool.define.departments import DepartmentList

EXAMPLE_MARK = "（記入例）"  # init's example row carries this in its name; check flags it
MAX_ROWS = 100_000
MAX_COLUMNS = 200


@dataclass(frozen=True, slots=True)
class Measure:
    number: str
    name: str
    group: str  # the group id
    department: str
    row: int  # row in the master, for messages
    indicator: str = ""
    unit: str = ""
    target: str = ""
    previous_rating: str = ""
    previous_direction: str = ""
    achievement: str = ""  # 主な成果 entry, set by the section
    extra: tuple[tuple[str, str], ...] = ()
    previous_number: str = ""  # 前年度施策番号: last year's number, when it was renumbered

    @property
    def ended(self) -> bool:
        """Completed in an earlier year: rated 終了, not asked again, still counted."""
        return self.previous_direction == S.COMPLETED or self.previous_rating == S.ENDED

    def __reduce__(self) -> tuple[type[Measure], tuple]:
        # Every worker gets the whole master: a tuple of the fields pickles in half the
        # time of the dataclass's own state, which looks up its fields for each measure.
        return Measure, tuple(getattr(self, name) for name in _MEASURE_FIELDS)


_MEASURE_FIELDS = tuple(f.name for f in dataclasses.fields(Measure))


def is_ended(survey: Survey, m: Measure) -> bool:
    """終了 applies only where the rating scale has it (the 2020 style)."""
    return m.ended and S.ENDED in survey.rating_scale.names


def ended_values(survey: Survey) -> dict[str, str]:
    """The answers an ended measure has without being asked: 終了, direction 完了."""
    values = {survey.rating_field: S.ENDED}
    if survey.direction_field:
        values[survey.direction_field] = S.COMPLETED
    return values


def final_values(survey: Survey, m: Measure, given: Mapping[str, object]) -> dict[str, object]:
    """A measure's answers as they count: an ended measure is 終了 (direction 完了) whatever
    came back. The one place the rule is applied to answers (tally, the ledger's current
    answers, init --from)."""
    return {**given, **ended_values(survey)} if is_ended(survey, m) else dict(given)


@dataclass(frozen=True)
class Master:
    file: str
    columns: tuple[str, ...]  # header row as read
    measures: tuple[Measure, ...]
    group_column: str = ""

    @property
    def extra_columns(self) -> tuple[str, ...]:
        known = {S.COL_NUMBER, S.COL_NAME, S.COL_DEPARTMENT, S.COL_ACHIEVEMENT, *S.OPTIONAL_COLUMNS,
                 *S.MASTER_COLUMNS, self.group_column}
        return tuple(c for c in self.columns if c not in known and c)

    def has(self, column: str) -> bool:
        return column in self.columns

    @property
    def departments(self) -> tuple[str, ...]:
        """Departments in order of first appearance in the master."""
        return tuple(dict.fromkeys(m.department for m in self.measures))

    def of(self, department: str) -> tuple[Measure, ...]:
        return tuple(m for m in self.measures if m.department == department)

    def by_number(self) -> dict[str, Measure]:
        return {m.number: m for m in self.measures}


@dataclass(frozen=True)
class Loaded:
    """A survey with its master: what every later command starts from.

    Lookups every form and every returned file needs are computed once here: with 2,000
    departments a per-file scan of the whole master would dominate generate and collect.
    `cache` holds what later stages derive once per load (the form's columns).
    """

    survey: Survey
    master: Master
    departments_list: DepartmentList | None = None  # 所管課一覧, when the survey names one
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def _by_department(self) -> dict[str, tuple[Measure, ...]]:
        groups: dict[str, list[Measure]] = {}
        for m in self.master.measures:
            groups.setdefault(m.department, []).append(m)
        return {d: tuple(ms) for d, ms in groups.items()}

    def measures_of(self, department: str) -> tuple[Measure, ...]:
        return self._by_department.get(department, ())

    @cached_property
    def by_number(self) -> dict[str, Measure]:
        return self.master.by_number()

    @cached_property
    def departments(self) -> frozenset[str]:
        return frozenset(self._by_department)

    @cached_property
    def asked(self) -> tuple[str, ...]:
        """Departments with something to answer: one whose measures have all ended gets no form."""
        return tuple(d for d in self.master.departments
                     if not all(is_ended(self.survey, m) for m in self.measures_of(d)))

    @cached_property
    def fingerprint(self) -> str:
        """What answers are checked against: the definition and every measure of the master.

        Not which release checked them (collect/validate.CHECKER_VERSION says that): an upgrade
        with nothing else changed keeps every year's answers current. The parts are named one
        by one and have not changed since release 0.1.0, whose ledgers store the same value
        (followed by ":0.1.0").
        """
        import hashlib
        import json

        # what a department saw and answered; not the row it sits on, nor 主な成果 (the section's)
        measures = [(m.number, m.name, m.group, m.department, m.indicator, m.unit, m.target,
                     m.previous_rating, m.previous_direction, m.extra) for m in self.master.measures]
        blob = json.dumps([self.survey.fingerprint(), measures], ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --- reading the table ----------------------------------------------------------------------

class TableError(Exception):
    """The master cannot be read; args are (problem code, keyword arguments)."""


def read_table(path: Path, pool: Pool | None = None) -> list[list[object]]:
    """Rows of the master's first sheet (or the CSV), header first."""
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    task = ReadTask((FIRST_SHEET,))
    if pool is None:
        with Pool(1) as own:
            raw = next(own.run([path], task))[1]
    else:
        raw = next(pool.run([path], task))[1]
    return _rows(raw)


def _read_csv(path: Path) -> list[list[object]]:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TableError("master-unreadable", {"detail": P.sentence("table-too-large")})
        raw = path.read_bytes()
    except PermissionError as exc:
        raise TableError("master-unreadable", {"detail": P.sentence("table-no-permission")}) from exc
    except OSError as exc:
        raise TableError("master-unreadable", {"detail": P.sentence("table-unreadable")}) from exc
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableError("master-unreadable", {"detail": P.sentence("table-encoding")})
    if "\x00" in text:
        raise TableError("master-unreadable", {"detail": P.sentence("table-not-text")})
    rows: list[list[object]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append(list(row[:MAX_COLUMNS]))
            if len(rows) > MAX_ROWS:
                raise TableError("master-unreadable", {"detail": P.sentence("table-too-many-rows", limit=f"{MAX_ROWS:,}")})
    except csv.Error as exc:
        raise TableError("master-unreadable", {
            "detail": P.sentence("table-csv-syntax", row=len(rows) + 1)}) from exc
    return rows


# what a pre-flight verdict means for the section's own file: a sentence of problems.SENTENCES
VERDICTS = {"empty-file": "table-empty-file", "encrypted": "table-encrypted", "legacy-xls": "table-legacy-xls",
            "xlsb": "table-xlsb", "ods": "table-ods", "zip-archive": "table-zip-archive",
            "no-permission": "table-no-permission-file", "hostile-xml": "table-hostile-xml",
            "reader-timeout": "table-reader-timeout"}


@dataclass(frozen=True, slots=True)
class Shown:
    """A cell of the section's workbook that is not plain text: what Excel shows, the number
    behind it, and a problem code when Excel's display cannot be reproduced."""
    text: str  # as Excel shows it: 60%, 2025/3/31, 0012; the number as General where it cannot
    number: float | None = None
    problem: str = ""  # "format-not-shown" or "error-in-table"
    detail: str = ""  # the number format, or the error value


def _rows(raw: RawWorkbook) -> list[list[object]]:
    """The first sheet as a grid: text as str, every number and error value as Shown (a date
    or a percentage typed in Excel is a number with a format: the grid has what it shows)."""
    if raw.failure:
        if raw.failure in VERDICTS:
            detail = P.sentence(VERDICTS[raw.failure])
        else:
            detail = P.sentence("table-other", detail=raw.detail) if raw.detail else P.sentence("table-unknown")
        raise TableError("master-unreadable", {"detail": detail})
    name = raw.first_sheet()
    cells = raw.cells.get(name or "", {})
    if not cells:
        return []
    last_row = min(max(r for r, _c in cells), MAX_ROWS + 1)
    last_col = min(max(c for _r, c in cells), MAX_COLUMNS)
    grid: list[list[object]] = [[None] * last_col for _ in range(last_row)]
    for (r, c), cell in cells.items():
        if r > last_row or c > last_col:
            continue
        if cell.kind == "e":
            value: object = Shown("", problem="error-in-table", detail=str(cell.value))
        elif cell.kind == "n" and isinstance(cell.value, float):
            text, faithful = cell_text(cell, raw.date1904)
            value = Shown(text, cell.value, "" if faithful else "format-not-shown", cell.format)
        elif cell.value is None:
            value = None
        else:  # text (as its format shows it: "未"@, ;;;), TRUE/FALSE
            text, faithful = cell_text(cell)
            value = text if faithful else Shown(text, problem="format-not-shown", detail=cell.format)
        grid[r - 1][c - 1] = value
    return grid


def _cell_text(value: object) -> str:
    if isinstance(value, Shown):
        value = value.text
    if type(value) is str:  # the usual case (every CSV cell): no more work than this
        if "\r" in value:  # a line break inside a quoted CSV cell, or Excel's _x000D_: one \n
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer() and abs(value) < 2**53:
            value = int(value)
    return str(value).strip()


def find_master(survey: Survey) -> Path:
    return survey.folder / survey.master_file


def load_master(survey: Survey, pool: Pool | None = None) -> tuple[Master | None, list[Problem]]:
    path = find_master(survey)
    file = path.name
    if not path.is_file():
        if path.exists() or path.is_symlink():
            return None, [P.make("master-unreadable", file=file,
                                 detail="通常のファイルではありません（フォルダ・リンク・パイプなど）")]
        return None, [P.make("master-missing", file=file)]
    try:
        rows = read_table(path, pool)
    except TableError as exc:
        code, kw = exc.args
        return None, [P.make(code, file=file, **kw)]
    found: list[Problem] = []
    first = 1
    while rows and not any(_cell_text(v) for v in rows[0]):
        rows.pop(0)
        first += 1
    if not rows:
        return None, [P.make("empty-master", file=file)]
    header = [squash(_cell_text(v)) for v in rows[0]]
    label = survey.group_label
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            continue
        if name in index:
            found.append(P.make("duplicate-column", file=file, row=first, column=name))
            continue
        index[name] = i
    for column in (S.COL_NUMBER, S.COL_NAME, label, S.COL_DEPARTMENT):
        if column not in index:
            found.append(P.make("missing-column", file=file, row=first, column=column))
    if any(p.is_error for p in found):
        return None, found

    # One string object per distinct text: departments, groups and units repeat on every row,
    # and every worker of collect holds the whole master (2,000 × 25 measures: ~18 MB less each).
    same: dict[str, str] = {}

    def keep(text: str) -> str:
        return same.setdefault(text, text)

    def get(row: list[object], column: str) -> str:
        i = index.get(column)
        return keep(_cell_text(row[i]) if i is not None and i < len(row) else "")

    def key(row: list[object], column: str, r: int) -> str:
        """A measure number is the number the cell holds (4.0 is "4"), whatever its format shows:
        it pairs answers and years. Where the format shows something else (0004), say so."""
        i = index.get(column)
        value = row[i] if i is not None and i < len(row) else None
        if not isinstance(value, Shown):
            return measure_key(value)
        number = measure_key(value.number) if value.number is not None else ""
        if number and not value.problem and measure_key(value.text) != number:
            found.append(P.make("number-shown-differently", file=file, row=r, column=column,
                                value=value.text, detail=number))
        return number

    measures: list[Measure] = []
    seen: dict[str, int] = {}
    known = {S.COL_NUMBER, S.COL_NAME, S.COL_DEPARTMENT, S.COL_ACHIEVEMENT, label,
             *S.OPTIONAL_COLUMNS, *S.MASTER_COLUMNS}
    extra_cols = [c for c in index if c not in known]
    for r, row in enumerate(rows[1:], start=first + 1):
        if not any(_cell_text(v) for v in row):
            continue
        number = key(row, S.COL_NUMBER, r)
        where: dict[str, Any] = {"file": file, "row": r}
        if not number:
            found.append(P.make("empty-measure-number", column=S.COL_NUMBER, **where))
            continue
        if number in seen:
            found.append(P.make("duplicate-measure", column=S.COL_NUMBER, measure=number,
                                other_row=seen[number], **where))
            continue
        seen[number] = r
        m = Measure(
            number=number, name=get(row, S.COL_NAME), group=get(row, label),
            department=keep(squash(get(row, S.COL_DEPARTMENT))), row=r,
            indicator=get(row, S.COL_INDICATOR), unit=get(row, S.COL_UNIT),
            target=get(row, S.COL_TARGET), previous_rating=get(row, S.COL_PREV_RATING),
            previous_direction=get(row, S.COL_PREV_DIRECTION),
            achievement=get(row, S.COL_ACHIEVEMENT),
            extra=tuple((c, get(row, c)) for c in extra_cols),
            previous_number=key(row, S.COL_PREVIOUS_NUMBER, r))
        if not m.name:
            found.append(P.make("empty-measure-name", column=S.COL_NAME, measure=number, **where))
        elif EXAMPLE_MARK in m.name:
            found.append(P.make("example-row", column=S.COL_NAME, measure=number, **where))
        if not m.department:
            found.append(P.make("empty-department", column=S.COL_DEPARTMENT, measure=number, **where))
        if not m.group:
            found.append(P.make("empty-group", column=label, measure=number, label=label, **where))
        measures.append(m)
    if not measures and not found:
        found.append(P.make("empty-master", file=file))
    found += shown_problems(file, rows, header, first)
    header_kept = tuple(h for h in header if h)
    return Master(file, header_kept, tuple(measures), label), found


def shown_problems(file: str, rows: list[list[object]], header: list[str], first: int) -> list[Problem]:
    """Cells under a heading that Excel shows otherwise than we can (a format we cannot
    reproduce, an error value): the section is told what the forms will show instead."""
    found = []
    for r, row in enumerate(rows[1:], start=first + 1):
        for column, value in zip(header, row, strict=False):
            if column and isinstance(value, Shown) and value.problem:
                found.append(P.make(value.problem, file=file, row=r, column=column, value=value.text,
                                    detail=value.detail))
    return found


# --- groups ---------------------------------------------------------------------------------

def split_group(text: str) -> Group:
    """「Ⅰ：業務の改善・効率化」, 「① 開かれた区政の実現」, 「Ⅰ」 or 「計画に関する進捗管理」."""
    m = re.match(r"^\s*(\S{1,4}?)\s*[：:．.、)）\s]\s*(.+)$", text)
    if m and group_order(m.group(1))[0] == 0:
        return Group(m.group(1), m.group(2).strip())
    m = re.match(r"^\s*([①-⑳Ⅰ-Ⅻⅰ-ⅻ])\s*(.+)$", text)
    if m:
        return Group(m.group(1), m.group(2).strip())
    return Group(text.strip(), "")


def group_order(group_id: str) -> tuple[int, float]:
    """Sort key of a group id: ①② and ⅠⅡ and 1 2 by their number; other labels after, all
    equal (a stable sort keeps them in the master's order)."""
    text = squash(group_id)
    if text.isdigit():
        return (0, float(text))
    if len(group_id) == 1:
        try:
            return (0, unicodedata.numeric(group_id))
        except (TypeError, ValueError):
            pass
    return (1, 0.0)


def resolve_groups(survey: Survey, master: Master) -> tuple[Survey, Master, list[Problem]]:
    """Tie each measure to a group id: listed groups, else the master's, ordered by number."""
    found: list[Problem] = []
    label = survey.group_label
    groups = survey.groups
    if not groups:
        seen: dict[str, Group] = {}
        for m in master.measures:
            if m.group:
                g = split_group(m.group)
                if g.id not in seen or (g.name and not seen[g.id].name):  # a later row may name it
                    seen[g.id] = g
        # numbered groups (①②, ⅠⅡ, 1 2) by their number, then the others in the order the master
        # first names them: the plan's order, not the character codes'
        groups = tuple(sorted(seen.values(), key=lambda g: group_order(g.id)))
        survey = dataclasses.replace(survey, groups=groups)
        for g in groups:
            if not g.name and group_order(g.id)[0] == 0:
                found.append(P.make("group-without-name", file=master.file, column=label, value=g.id,
                                    label=label))
    lookup: dict[str, str] = {}
    for g in groups:
        for spelling in (g.id, g.name, f"{g.id}{g.name}", f"{g.id}：{g.name}", f"{g.id} {g.name}",
                         f"{label}{g.id}", f"{label}{g.id}：{g.name}"):
            if spelling:
                lookup.setdefault(choice_key(spelling), g.id)
    memo: dict[str, str | None] = {}  # 50,000 measures share a handful of spellings
    fixed = []
    for m in master.measures:
        if not m.group:
            fixed.append(m)
            continue
        if m.group not in memo:
            memo[m.group] = lookup.get(choice_key(m.group)) or lookup.get(choice_key(split_group(m.group).id))
        gid = memo[m.group]
        if gid is None:
            found.append(P.make("unknown-group", file=master.file, row=m.row, column=label,
                                measure=m.number, label=label, value=m.group,
                                choices="、".join(g.id for g in groups)))
            fixed.append(m)
        else:
            fixed.append(m if gid == m.group else dataclasses.replace(m, group=gid))
    return survey, dataclasses.replace(master, measures=tuple(fixed)), found


# --- checks across rows ---------------------------------------------------------------------

def check_previous(survey: Survey, master: Master) -> list[Problem]:
    """前年度評価 / 前年度方向性 must be values of this survey's scales (after normalisation)."""
    found = []
    checks = [(S.COL_PREV_RATING, survey.rating_scale)]
    if survey.direction_scale is not None:
        checks.append((S.COL_PREV_DIRECTION, survey.direction_scale))
    for m in master.measures:
        for column, scale in checks:
            value = m.previous_rating if column == S.COL_PREV_RATING else m.previous_direction
            if value and scale.lookup(value) is None:
                found.append(P.make("bad-previous", file=master.file, row=m.row, column=column,
                                    measure=m.number, value=value, choices="、".join(scale.names)))
    if any(m.ended for m in master.measures) and S.ENDED not in survey.rating_scale.names:
        found.append(P.make("no-ended-value", file=master.file, column=S.COL_PREV_DIRECTION))
    return found


def check_department_spelling(master: Master) -> list[Problem]:
    """One department spelt two ways (「ICT推進課」 and 「ICT 推進課」) would get two forms."""
    first: dict[str, Measure] = {}
    found = []
    reported = set()
    for m in master.measures:
        if not m.department:
            continue
        key = choice_key(m.department)
        other = first.setdefault(key, m)
        if other.department != m.department and (key, m.department) not in reported:
            reported.add((key, m.department))
            found.append(P.make("department-spelling", file=master.file, row=m.row,
                                column=S.COL_DEPARTMENT, measure=m.number, value=m.department,
                                other=other.department, other_row=other.row))
    return found


def normalise_previous(survey: Survey, master: Master) -> Master:
    """Store 前年度評価/方向性 as the canonical scale value (「Ａ」 -> 「A」), measures in number order."""
    rating, direction = survey.rating_scale, survey.direction_scale
    ratings: dict[str, str] = {"": ""}
    directions: dict[str, str] = {"": ""}
    fixed = []
    for m in master.measures:
        pr = ratings.get(m.previous_rating)
        if pr is None:
            pr = ratings[m.previous_rating] = rating.lookup(m.previous_rating) or m.previous_rating
        pd = directions.get(m.previous_direction)
        if pd is None:
            pd = directions[m.previous_direction] = (
                (direction.lookup(m.previous_direction) if direction else None) or squash(m.previous_direction))
        same = pr == m.previous_rating and pd == m.previous_direction
        fixed.append(m if same else dataclasses.replace(m, previous_rating=pr, previous_direction=pd))
    return dataclasses.replace(master, measures=tuple(sorted(fixed, key=lambda m: natural_key(m.number))))


def load(folder: Path, pool: Pool | None = None) -> tuple[Loaded | None, list[Problem]]:
    """Load survey.toml, its master and department list; return (Loaded or None, every problem)."""
    from xlsx_tool.define import departments as D

    survey, found = S.load_definition(folder)
    if survey is None:
        return None, found
    master, more = load_master(survey, pool)
    found += more
    if master is None:
        return None, found
    survey, master, more = resolve_groups(survey, master)
    found += more
    found += check_previous(survey, master)
    found += check_department_spelling(master)
    master = normalise_previous(survey, master)
    survey, more = S.ask_reason(survey, any(m.previous_rating and not is_ended(survey, m) for m in master.measures),
                                master.file)
    found += more
    listing, more = D.load_departments(survey, master, pool)
    found += more
    return Loaded(survey, master, listing), found


__all__ = ["Loaded", "Master", "Measure", "ended_values", "is_ended", "load"]
