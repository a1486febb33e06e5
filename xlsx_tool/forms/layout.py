"""The form's layout, defined once: written by writer.py, read back by collect/.

What a form holds where: the rows above the table (title, contact, 記入者 and 内線), the
columns (fixed information from the master, then one input column per field), and the
identification record (a very hidden sheet plus custom document properties) that lets
collect recognise a returned file whatever its name. Reading a returned sheet, the
recorded positions are only a hint: every column is found again by its header text, so an
inserted, deleted or moved column never shifts an answer into another field.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded, Measure
from xlsx_tool.define.survey import Field, Survey
from xlsx_tool.intake.reader import ID_SHEET, Cells, RawCell, RawWorkbook
from xlsx_tool.textnorm import choice_key, display_width, safe_file_name
from xlsx_tool.xlsxout import shrink_widths, width_budget

LIST_SHEET = "_lists"
ID_MARK = "xlsx-tool-form"
ID_FORMAT = "2"

# Rows of the input sheet, zero-based as xlsxwriter counts them.
TITLE_ROW = 0
INFO_ROW = 1  # 所管課, 提出期限, 返送先
RESPONDENT_ROW = 2  # 記入者 [ ]  内線 [ ]
NOTE_ROW = 3
HEADER_ROW = 4
FIRST_ROW = HEADER_ROW + 1
RESPONDENT = ("記入者", "内線")
REQUIRED_MARK = "\n（必須）"  # on a line of its own: a narrow column must not break inside it
CHANGED_MARK = "\n（評価を変えたら必須）"  # a field required where the rating differs from 前年度評価
GROUP_KEY = "group"
INDICATOR_KEY = "indicator"  # 指標・単位・目標値 in one column: the form must fit A4
PREVIOUS_KEY = "previous"  # 前年度評価・前年度方向性 in one column


@dataclass(frozen=True)
class Column:
    key: str  # a field name, a master column name, or one of the keys above
    header: str
    input: bool
    width: float
    wrap: bool = False
    field: Field | None = None


def header_key(text: object) -> str:
    """A header as compared when reading: width, spaces, case and 「（必須）」 ignored."""
    key = choice_key(str(text or ""))
    for mark in ("(必須)", "※", "*"):
        key = key.replace(mark, "")
    return key


def columns(loaded: Loaded) -> tuple[Column, ...]:
    """The form's columns for this survey and master (computed once per load)."""
    cached = loaded.cache.get("columns")
    if cached is None:
        cached = loaded.cache["columns"] = _columns(loaded)
    return cached


def _columns(loaded: Loaded) -> tuple[Column, ...]:
    survey, master = loaded.survey, loaded.master
    ms = master.measures

    def fit(header: str, values: list[str], lo: int, hi: int) -> float:
        widest = max([max(display_width(line) for line in header.split("\n")) // 2 + 1,
                      *(display_width(v) for v in values)])
        return float(min(max(widest + 2, lo), hi))

    cols = [
        Column(S.COL_NUMBER, S.COL_NUMBER, False, fit("番号", [m.number for m in ms], 6, 10)),
        Column(GROUP_KEY, survey.group_label, False, fit(survey.group_label, [m.group for m in ms], 6, 10)),
        Column(S.COL_NAME, S.COL_NAME, False, 24.0, True),
    ]
    if any(master.has(c) for c in (S.COL_INDICATOR, S.COL_UNIT, S.COL_TARGET)):
        cols.append(Column(INDICATOR_KEY, "指標・目標値", False, 22.0, True))
    if master.has(S.COL_PREV_RATING) or master.has(S.COL_PREV_DIRECTION):
        header = "前年度評価" if not master.has(S.COL_PREV_DIRECTION) else "前年度の評価・方向性"
        cols.append(Column(PREVIOUS_KEY, header, False, 11.0, True))
    for name in master.extra_columns:
        values = [dict(m.extra).get(name, "") for m in ms]
        cols.append(Column(name, name, False, fit(name, values, 8, 20), True))
    for f in survey.fields:
        if f.type == "choice":
            width = fit(f.name + REQUIRED_MARK, list(survey.scales[f.scale or ""].selectable), 8, 16)
        elif f.type == "text":
            width = 44.0 if (f.max_length or 0) > 100 else fit(f.name, [], 14, 24)
        else:
            width = fit(f.name, ["000000000"], 10, 14)
        mark = REQUIRED_MARK if f.required else CHANGED_MARK if f.required_when else ""
        cols.append(Column(f.name, f.name + mark, True, float(f.width or width), f.type == "text", f))
    return tuple(cols)


# Paper: the input sheet prints on A4 landscape (0.3" margins), one page wide, its 10 pt text
# at 8.2 pt or more (xlsxout.width_budget).
MARGIN = 0.3
_MIN_WIDTH = {S.COL_NAME: 16.0, INDICATOR_KEY: 14.0, PREVIOUS_KEY: 9.0}


def widths(cols: tuple[Column, ...], extra: tuple[float, ...] = ()) -> list[float]:
    """Column widths (the form's, then `extra` columns) within the page budget.

    Columns that wrap give up width first, in proportion, down to a readable minimum;
    narrow columns (numbers, choices) keep theirs.
    """
    wanted = [c.width for c in cols] + list(extra)
    floors = [(_MIN_WIDTH.get(c.key, 18.0 if c.input else 10.0) if c.wrap else c.width) for c in cols]
    floors += [min(e, 18.0) for e in extra]
    return shrink_widths(wanted, floors, width_budget(True, MARGIN, MARGIN))


def fixed_value(col: Column, m: Measure) -> str:
    """The text a fixed (locked) column shows for a measure."""
    if col.key == S.COL_NUMBER:
        return m.number
    if col.key == GROUP_KEY:
        return m.group
    if col.key == S.COL_NAME:
        return m.name
    if col.key == INDICATOR_KEY:
        # a target typed as 60% (or 100件) already shows its unit: not 60%%
        target = (m.target if m.target.endswith(m.unit) else m.target + m.unit) if m.target else ""
        lines = [m.indicator + (f"（{m.unit}）" if m.unit and not m.target else "")] if m.indicator else []
        if target:
            lines.append(f"目標値：{target}")
        return "\n".join(lines)
    if col.key == PREVIOUS_KEY:
        return "／".join(v for v in (m.previous_rating, m.previous_direction) if v)
    return dict(m.extra).get(col.key, "")


def form_version(survey: Survey, measures: tuple[Measure, ...], cols: tuple[Column, ...]) -> str:
    """Changes when anything a department sees or answers changes; not with the date."""
    blob = json.dumps([ID_FORMAT, survey.fingerprint(), [c.key for c in cols],
                       [[fixed_value(c, m) for c in cols if not c.input] for m in measures]],
                      ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def file_names(survey: Survey, departments: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Each department's form file name: recognisable, Windows-valid and never shared.

    Two names that would collide (long names cut at the same point, or names equal
    but for case) get a short mark derived from the department, so it is stable.
    """
    names = {d: safe_file_name(f"{survey.year_label}_{survey.title}_{d}") for d in departments}
    seen: dict[str, list[str]] = {}
    for d, name in names.items():
        seen.setdefault(name.casefold(), []).append(d)
    for clash in (ds for ds in seen.values() if len(ds) > 1):
        for d in clash:
            mark = hashlib.sha256(d.encode("utf-8")).hexdigest()[:6]
            names[d] = safe_file_name(f"{survey.year_label}_{survey.title}_{d}", limit=140)[:-5] + f"_{mark}.xlsx"
    return names


# --- the identification record ------------------------------------------------------------

PROPERTY_PREFIX = "xlsx_tool_"


@dataclass(frozen=True)
class FormRecord:
    """What a returned file says it is: the hidden sheet's record, or its document properties."""

    survey: str
    fiscal_year: str
    department: str
    version: str = ""
    sheet: str = ""
    header_row: int | None = None  # 1-based, a hint
    columns: dict[str, int] = field(default_factory=dict)  # key -> 1-based column, a hint
    measures: tuple[str, ...] | None = None  # the measures the form was made with
    names: dict[str, str] = field(default_factory=dict)  # measure -> the name the form showed
    from_properties: bool = False


def record_rows(survey: Survey, department: str, version: str, cols: tuple[Column, ...],
                measures: tuple[Measure, ...]) -> list[tuple[str, ...]]:
    """The rows of the hidden identification sheet: (kind, key, value); a measure's row also
    holds the name the form shows, so a returned row is checked against it (collect)."""
    rows: list[tuple[str, ...]] = [("mark", ID_MARK, ID_FORMAT), ("survey", survey.id, ""),
            ("fiscal_year", str(survey.fiscal_year), ""), ("department", department, ""),
            ("form_version", version, ""), ("sheet", survey.input_sheet, ""),
            ("header_row", str(HEADER_ROW + 1), "")]
    rows += [("column", c.key, str(i + 1)) for i, c in enumerate(cols)]
    rows += [("measure", m.number, str(FIRST_ROW + 1 + i), m.name) for i, m in enumerate(measures)]
    return rows


def record_properties(survey: Survey, department: str, version: str) -> dict[str, str]:
    """The same identity as custom document properties: they survive a deleted sheet."""
    return {f"{PROPERTY_PREFIX}survey": survey.id, f"{PROPERTY_PREFIX}year": str(survey.fiscal_year),
            f"{PROPERTY_PREFIX}department": department, f"{PROPERTY_PREFIX}version": version,
            f"{PROPERTY_PREFIX}sheet": survey.input_sheet}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _column_number(text: str) -> int | None:
    """A recorded column: "3" (format 2) or a letter "C" (format 1)."""
    if text.isdigit():
        return int(text) if 1 <= int(text) <= 16384 else None
    if re.fullmatch(r"[A-Z]{1,3}", text):
        n = 0
        for ch in text:
            n = n * 26 + ord(ch) - 64
        return n
    return None


def read_record(raw: RawWorkbook) -> FormRecord | None:
    """The identification record of a read workbook, or None when it carries none."""
    cells = raw.cells.get(ID_SHEET, {})
    rows: dict[int, dict[int, object]] = {}
    for (r, c), cell in cells.items():
        if c in (1, 2, 3, 4):  # kind, key, value (, a measure's name)
            rows.setdefault(r, {})[c] = cell.value
    found: dict[str, str] = {}
    cols: dict[str, int] = {}
    measures: list[str] = []
    names: dict[str, str] = {}
    for r in sorted(rows):
        kind, key, value = (_text(rows[r].get(c)) for c in (1, 2, 3))
        if kind == "column":
            number = _column_number(value)
            if number:
                cols[key] = number
        elif kind == "measure":
            measures.append(key)
            name = rows[r].get(4)
            if isinstance(name, str):
                names[key] = name
        elif kind and kind not in found:  # the first of each kind, the mark too
            found[kind] = key
    if found.get("mark") == ID_MARK and found.get("survey"):
        header = found.get("header_row", "")
        return FormRecord(found["survey"], found.get("fiscal_year", ""), found.get("department", ""),
                          found.get("form_version", ""), found.get("sheet", ""),
                          int(header) if header.isdigit() and 1 <= int(header) <= 1000 else None,
                          cols, tuple(measures), names)
    props = raw.custom
    if props.get(f"{PROPERTY_PREFIX}survey"):
        return FormRecord(props[f"{PROPERTY_PREFIX}survey"], props.get(f"{PROPERTY_PREFIX}year", ""),
                          props.get(f"{PROPERTY_PREFIX}department", ""),
                          props.get(f"{PROPERTY_PREFIX}version", ""),
                          props.get(f"{PROPERTY_PREFIX}sheet", ""), from_properties=True)
    return None


# --- finding the columns of a returned sheet ----------------------------------------------

HEADER_SEARCH_ROWS = 30
HEADER_MAX = 80  # characters: longer text in the top rows is no header


@dataclass
class Located:
    """Where each column of the form is in a returned sheet, and what does not fit."""

    header_row: int = 0  # 1-based; 0 when not found
    columns: dict[str, int] = field(default_factory=dict)  # key -> 1-based column
    missing: list[str] = field(default_factory=list)  # headers of input columns not found
    doubled: list[tuple[str, list[int]]] = field(default_factory=list)  # header, columns claiming it
    missing_fixed: list[str] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)  # added columns: (column, header)
    moved: bool = False
    respondent: dict[str, str] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return bool(self.header_row) and not self.missing and not self.doubled


def locate(cells: Cells, cols: tuple[Column, ...], record: FormRecord | None) -> Located:
    """Find the header row (the one holding 施策番号) and every column by its header text."""
    out = Located()
    by_row: dict[int, dict[int, str]] = {}
    for (r, c), cell in cells.items():
        # headers are short: an answer typed above row 30 need not be normalised
        if r <= HEADER_SEARCH_ROWS and isinstance(cell.value, str) and 0 < len(cell.value) <= HEADER_MAX:
            by_row.setdefault(r, {})[c] = header_key(cell.value)
    number_key = header_key(S.COL_NUMBER)
    candidates = sorted(r for r, row in by_row.items() if number_key in row.values())
    hint = record.header_row if record else None
    if not candidates:
        return out
    row = hint if hint in candidates else candidates[0]
    out.header_row = row
    headers = by_row[row]
    claims: dict[str, list[int]] = {}
    for c, key in headers.items():
        claims.setdefault(key, []).append(c)
    known = set()
    for col in cols:
        key = header_key(col.header)
        known.add(key)
        found = sorted(claims.get(key, []))
        if len(found) == 1:
            out.columns[col.key] = found[0]
        elif found and (col.input or col.key == S.COL_NUMBER):  # found more than once
            out.doubled.append((col.header, found))
        elif col.input:
            out.missing.append(col.header)
        else:
            out.missing_fixed.append(col.header)
    out.unknown = sorted((c, text) for text, cs in claims.items() if text not in known for c in cs)
    if record and record.columns:
        out.moved = any(record.columns.get(k) not in (None, c) for k, c in out.columns.items())
    out.respondent = _respondent(cells, row)
    return out


def respondent_cells(cols: tuple[Column, ...]) -> dict[str, tuple[int, int]]:
    """Label and input column (zero-based) of 記入者 and 内線 in the respondent row.

    記入者 is typed under the wide 施策名 column, 内線 two columns further right."""
    name = next(i for i, c in enumerate(cols) if c.key == S.COL_NAME)
    return {RESPONDENT[0]: (0, name), RESPONDENT[1]: (name + 1, name + 2)}


def _respondent(cells: Cells, header_row: int) -> dict[str, str]:
    """記入者 and 内線: the first value right of each label, above the table."""
    labels = {header_key(label): label for label in RESPONDENT}
    found: dict[str, str] = {}
    for (r, c), cell in sorted(cells.items()):
        if r >= header_row or not isinstance(cell.value, str):
            continue
        label = labels.get(header_key(cell.value))
        if label is None or label in found:
            continue
        found[label] = ""
        for right in (c + 1, c + 2, c + 3):  # a column inserted after the label moves the value on
            value = cells.get((r, right))
            if value is None or value.kind == "e":
                continue
            if header_key(value.value) in labels:
                break  # what follows the next label is that label's value
            if _text(value.value):
                found[label] = _text(value.value)[:100]
                break
    return found


def cell_ref(row: int, col: int) -> str:
    """(7, 8) -> "H7"."""
    return f"{column_letters(col)}{row}"


def column_letters(col: int) -> str:
    """8 -> "H", 27 -> "AA"."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def at(cells: Cells, row: int, col: int | None) -> RawCell | None:
    return cells.get((row, col)) if col else None
