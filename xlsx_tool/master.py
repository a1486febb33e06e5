"""The measure master (施策マスタ): one row per measure, kept by the section in Excel.

Read from .xlsx or .csv (UTF-8 with or without BOM, or the Shift_JIS/cp932 that Excel on a
Japanese Windows writes for "CSV"). Unknown columns are kept in order and shown on the forms.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from . import problems as P
from . import survey as S
from .problems import Problem
from .survey import Group, Survey
from .textnorm import choice_key, measure_key, natural_key, safe_file_name, squash

EXAMPLE_MARK = "（記入例）"  # init's example row carries this in its name; check flags it


@dataclass(frozen=True)
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

    @property
    def ended(self) -> bool:
        """Completed in an earlier year: rated 終了, not asked again, still counted."""
        return self.previous_direction == S.COMPLETED or self.previous_rating == S.ENDED


@dataclass(frozen=True)
class Master:
    file: str
    columns: tuple[str, ...]  # header row as read
    measures: tuple[Measure, ...]

    @property
    def extra_columns(self) -> tuple[str, ...]:
        known = {S.COL_NUMBER, S.COL_NAME, S.COL_DEPARTMENT, S.COL_ACHIEVEMENT, *S.OPTIONAL_COLUMNS}
        return tuple(c for c in self.columns if c not in known and c and not _is_group_col(c))

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


def _is_group_col(name: str) -> bool:
    return name in ("基本方針", "基本目標")


@dataclass(frozen=True)
class Loaded:
    """A survey with its master: what every later command starts from.

    Lookups every form and every returned file needs are computed once here: with 2,000
    departments a per-file scan of the whole master would dominate generate and collect.
    """

    survey: Survey
    master: Master
    problems: tuple[Problem, ...]

    @cached_property
    def columns(self):
        from .forms import columns

        return columns(self.survey, self.master)

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

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def read_table(path: Path) -> list[list[object]]:
    """Rows of the master's first sheet (or the CSV), header first."""
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp932"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValueError("文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）")
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    import openpyxl  # imported here: it is slow to import and not needed for CSV

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # some writers leave a wrong <dimension>
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def find_master(survey: Survey) -> Path:
    return survey.folder / survey.master_file


def load_master(survey: Survey) -> tuple[Master | None, list[Problem]]:
    path = find_master(survey)
    file = path.name
    if not path.is_file():
        return None, [P.make("master-missing", file=file)]
    try:
        rows = read_table(path)
    except Exception as exc:  # any reader failure is the user's file, not our bug
        return None, [P.make("master-unreadable", file=file, detail=f"{type(exc).__name__}: {exc}")]
    found: list[Problem] = []
    while rows and not any(_cell_text(v) for v in rows[0]):
        rows.pop(0)
    if not rows:
        return None, [P.make("empty-master", file=file)]
    header = [squash(_cell_text(v)) for v in rows[0]]
    label = survey.group_label
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            continue
        if name in index:
            found.append(P.make("duplicate-column", file=file, row=1, column=name))
            continue
        index[name] = i
    for column in (S.COL_NUMBER, S.COL_NAME, label, S.COL_DEPARTMENT):
        if column not in index:
            found.append(P.make("missing-column", file=file, row=1, column=column))
    if any(p.is_error for p in found):
        return None, found

    def get(row: list[object], column: str) -> str:
        i = index.get(column)
        return _cell_text(row[i]) if i is not None and i < len(row) else ""

    measures: list[Measure] = []
    seen: dict[str, int] = {}
    extra_cols = [c for c in index if c not in {
        S.COL_NUMBER, S.COL_NAME, S.COL_DEPARTMENT, S.COL_ACHIEVEMENT, label, *S.OPTIONAL_COLUMNS}]
    for r, row in enumerate(rows[1:], start=2):
        if not any(_cell_text(v) for v in row):
            continue
        number_cell = row[index[S.COL_NUMBER]] if index[S.COL_NUMBER] < len(row) else None
        number = measure_key(number_cell)
        where = {"file": file, "row": r}
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
            department=squash(get(row, S.COL_DEPARTMENT)), row=r,
            indicator=get(row, S.COL_INDICATOR), unit=get(row, S.COL_UNIT),
            target=get(row, S.COL_TARGET), previous_rating=get(row, S.COL_PREV_RATING),
            previous_direction=get(row, S.COL_PREV_DIRECTION),
            achievement=get(row, S.COL_ACHIEVEMENT),
            extra=tuple((c, get(row, c)) for c in extra_cols))
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
    header_kept = tuple(h for h in header if h)
    return Master(file, header_kept, tuple(measures)), found


def _split_group(text: str) -> Group:
    """「Ⅰ：業務の改善・効率化」, 「Ⅰ 業務…」 or 「Ⅰ」 as id and name."""
    m = re.match(r"^\s*(.+?)\s*[：:．.、\s]\s*(.+)$", text)
    if m and len(m.group(1)) <= 4:
        return Group(m.group(1), m.group(2))
    return Group(text, "")


def resolve_groups(survey: Survey, master: Master) -> tuple[Survey, Master, list[Problem]]:
    """Tie each measure to a group id: listed groups, else the master's in order of appearance."""
    found: list[Problem] = []
    label = survey.group_label
    groups = survey.groups
    if not groups:
        groups = tuple(dict.fromkeys(_split_group(m.group) for m in master.measures if m.group))
        survey = dataclasses.replace(survey, groups=groups)
    lookup: dict[str, str] = {}
    for g in groups:
        for spelling in (g.id, g.name, f"{g.id}{g.name}", f"{g.id}：{g.name}", f"{g.id} {g.name}",
                         f"{label}{g.id}", f"{label}{g.id}：{g.name}"):
            if spelling:
                lookup.setdefault(choice_key(spelling), g.id)
    fixed = []
    for m in master.measures:
        if not m.group:
            fixed.append(m)
            continue
        gid = lookup.get(choice_key(m.group))
        if gid is None:
            found.append(P.make("unknown-group", file=master.file, row=m.row, column=label,
                                measure=m.number, label=label, value=m.group,
                                choices="、".join(g.id for g in groups)))
            fixed.append(m)
        else:
            fixed.append(dataclasses.replace(m, group=gid))
    return survey, dataclasses.replace(master, measures=tuple(fixed)), found


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


def normalise_previous(survey: Survey, master: Master) -> Master:
    """Store 前年度評価/方向性 as the canonical scale value (「Ａ」 -> 「A」)."""
    rating, direction = survey.rating_scale, survey.direction_scale
    fixed = []
    for m in master.measures:
        pr = rating.lookup(m.previous_rating) or m.previous_rating if m.previous_rating else ""
        pd = m.previous_direction
        if pd:
            pd = (direction.lookup(pd) if direction else None) or squash(pd)
        fixed.append(dataclasses.replace(m, previous_rating=pr, previous_direction=pd))
    return dataclasses.replace(master, measures=tuple(sorted(fixed, key=lambda m: natural_key(m.number))))


def check_file_names(survey: Survey, master: Master) -> list[Problem]:
    seen: dict[str, str] = {}
    found = []
    for d in master.departments:
        name = safe_file_name(d).casefold()
        if name in seen and seen[name] != d:
            found.append(P.make("file-name-clash", file=master.file, department=d, other=seen[name]))
        seen.setdefault(name, d)
    return found


def load(folder: Path) -> tuple[Loaded | None, list[Problem]]:
    """Load survey.toml and its master; return (Loaded or None, every problem found)."""
    survey, found = S.load_definition(folder)
    if survey is None:
        return None, found
    master, more = load_master(survey)
    found += more
    if master is None:
        return None, found
    survey, master, more = resolve_groups(survey, master)
    found += more
    found += check_previous(survey, master)
    found += check_file_names(survey, master)
    master = normalise_previous(survey, master)
    return Loaded(survey, master, tuple(found)), found
