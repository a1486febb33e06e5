"""Creating a survey folder: `init` from a template (and the empty master beside it)."""

from __future__ import annotations

import datetime as dt
import io
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from xlsx_tool.bundled import bundled
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import EXAMPLE_MARK
from xlsx_tool.errors import SurveyError
from xlsx_tool.problems import sentence
from xlsx_tool.wareki import fiscal_year_of
from xlsx_tool.xlsxout import atomic_write, close_to_bytes, ensure_folder, new_workbook, ok


def templates() -> dict[str, str]:
    """Template name -> its first comment line (what it is)."""
    found = {}
    for entry in sorted(bundled("templates").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            first = entry.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
            found[entry.name.removesuffix(".toml")] = first
    return found


def template_text(name: str) -> str:
    names = templates()
    if name not in names:
        raise SurveyError(sentence("unknown-template", name=name, names="、".join(names)))
    return bundled("templates").joinpath(f"{name}.toml").read_text(encoding="utf-8")


def default_fiscal_year(today: dt.date | None = None) -> int:
    """A results survey asks about the fiscal year that has just ended."""
    return fiscal_year_of(today or dt.date.today()) - 1


@dataclass
class Made:
    """What init wrote, and what it found prepared and left as it was."""

    made: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # the section's own files, used, never overwritten


def prepared(folder: Path, name: str) -> Path | None:
    """A file the section prepared before init: the template's name, or the same name as .xlsx,
    .xlsm or .csv (施策マスタ.csv where the template says 施策マスタ.xlsx)."""
    stem = Path(name).stem
    for candidate in (name, *(stem + s for s in (".xlsx", ".xlsm", ".csv"))):
        path = folder / candidate
        if path.is_file():
            return path
    return None


def init_survey(folder: Path, template: str, fiscal_year: int | None = None) -> Made:
    """Write survey.toml, an empty master, the department list and the three numbered folders.

    A master or department list the section has already put in the folder is kept as it is
    and named in survey.toml (never overwritten by an empty template). On any failure
    everything made so far is removed again, so a failed init never leaves a survey.toml that
    blocks its own retry.
    """
    if (folder / S.DEFINITION_FILE).exists():
        raise SurveyError(sentence("survey-exists", folder=folder, file=S.DEFINITION_FILE))
    text = template_text(template)
    year = fiscal_year or default_fiscal_year()
    text = re.sub(r"(?m)^fiscal_year\s*=.*$", f"fiscal_year = {year}", text, count=1)
    data = tomllib.loads(text)
    survey_table = data.get("survey", {})
    label = survey_table.get("group_label", "基本方針")
    groups = [g.get("id", "") for g in data.get("groups", [])]
    scales = data.get("scales", {})
    rating = [v["value"] if isinstance(v, dict) else v for v in scales.get("評価", {}).get("values", [])]
    direction = [v["value"] if isinstance(v, dict) else v for v in scales.get("方向性", {}).get("values", [])]
    out = Made()
    made = out.made
    try:
        existed = folder.exists()
        ensure_folder(folder)
        if not existed:
            made.append(folder)
        for name in (S.FORMS_DIR, S.RETURNS_DIR, S.OUTPUT_DIR):
            if not (folder / name).exists():
                ensure_folder(folder / name)
                made.append(folder / name)
        master_name = survey_table.get("master", "施策マスタ.xlsx")
        own = prepared(folder, master_name)
        if own is not None:
            out.kept.append(own)
            text = point_file(text, "master", own.name)
        else:
            atomic_write(folder / master_name, empty_master(label, groups, rating, direction))
            made.append(folder / master_name)
        listing = survey_table.get("departments")
        if listing:
            own = prepared(folder, listing)
            if own is not None:
                out.kept.append(own)
                text = point_file(text, "departments", own.name)
            else:
                atomic_write(folder / listing, empty_department_list())
                made.append(folder / listing)
        definition = folder / S.DEFINITION_FILE
        atomic_write(definition, text.encode("utf-8"))  # last: its presence means "made"
        made.append(definition)
    except BaseException:
        remove_made(made)
        raise
    out.made = [folder / S.DEFINITION_FILE, *[p for p in made if p != folder and p.name != S.DEFINITION_FILE]]
    return out


def point_file(text: str, key: str, name: str) -> str:
    """survey.toml's `key = "…"` naming the file the section prepared."""
    return re.sub(rf'(?m)^{key}\s*=\s*"[^"]*"', lambda _m: f'{key} = "{name}"', text, count=1)


def remove_made(made: list[Path]) -> None:
    """Undo a half-made folder: remove what a failed command created, newest first, so that
    a retry starts clean (a file or folder that cannot be removed is left)."""
    for path in reversed(made):
        try:
            path.rmdir() if path.is_dir() else path.unlink()
        except OSError:
            pass


def empty_department_list() -> bytes:
    """所管課一覧 with its header: who to write to and whom to call, per department."""
    from xlsx_tool.define.departments import COLUMNS

    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    ws = wb.add_worksheet("所管課一覧")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for c, name in enumerate(COLUMNS):
        ok(ws.write_string(0, c, name, head), name)
        ws.set_column(c, c, (16, 12, 8, 30)[c])
    ws.freeze_panes(1, 0)
    return close_to_bytes(wb, buffer)


def master_columns(label: str, with_direction: bool) -> list[str]:
    cols = [S.COL_NUMBER, S.COL_NAME, label, S.COL_DEPARTMENT, S.COL_INDICATOR,
            S.COL_UNIT, S.COL_TARGET, S.COL_PREV_RATING]
    if with_direction:
        cols.append(S.COL_PREV_DIRECTION)
    return cols + [S.COL_ACHIEVEMENT]


def empty_master(label: str, groups: list[str], rating: list[str], direction: list[str]) -> bytes:
    """The master with its header, dropdowns for group and previous values, one example row."""
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    ws = wb.add_worksheet("施策マスタ")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    example = wb.add_format({"font_color": "#7F7F7F", "italic": True})
    cols = master_columns(label, bool(direction))
    widths = {S.COL_NAME: 40, S.COL_INDICATOR: 24, S.COL_ACHIEVEMENT: 40, S.COL_DEPARTMENT: 16}
    sample = {S.COL_NUMBER: "1", S.COL_NAME: f"{EXAMPLE_MARK}Web会議の推進", label: groups[0] if groups else "①",
              S.COL_DEPARTMENT: "ICT推進課", S.COL_INDICATOR: "Web会議の実施回数", S.COL_UNIT: "回",
              S.COL_TARGET: 500}
    for c, name in enumerate(cols):
        ok(ws.write_string(0, c, name, head), name)
        ws.set_column(c, c, widths.get(name, 12))
        value = sample.get(name)
        if isinstance(value, int):
            ok(ws.write_number(1, c, value, example), name)
        elif value:
            ok(ws.write_string(1, c, value, example), name)
    last = 1000
    if groups:
        c = cols.index(label)
        ok(ws.data_validation(1, c, last, c, {"validate": "list", "source": groups}), "groups")
    if rating:
        c = cols.index(S.COL_PREV_RATING)
        ok(ws.data_validation(1, c, last, c, {"validate": "list", "source": rating}), "previous")
    if direction:
        c = cols.index(S.COL_PREV_DIRECTION)
        ok(ws.data_validation(1, c, last, c, {"validate": "list", "source": direction}), "previous direction")
    ws.freeze_panes(1, 0)
    return close_to_bytes(wb, buffer)
