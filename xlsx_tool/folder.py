"""Creating a survey folder: `init` from a template (and the empty master beside it)."""

from __future__ import annotations

import datetime as dt
import io
import re
from importlib import resources
from pathlib import Path

from . import survey as S
from .errors import SurveyError
from .master import EXAMPLE_MARK
from .wareki import fiscal_year_of
from .xlsxout import atomic_write, close_to_bytes, new_workbook, ok


def templates() -> dict[str, str]:
    """Template name -> its first comment line (what it is)."""
    found = {}
    for entry in sorted(resources.files("xlsx_tool.templates").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            first = entry.read_text(encoding="utf-8").splitlines()[0].lstrip("# ").strip()
            found[entry.name.removesuffix(".toml")] = first
    return found


def template_text(name: str) -> str:
    names = templates()
    if name not in names:
        raise SurveyError(f"テンプレート「{name}」はありません。{'、'.join(names)} のいずれかを指定してください"
                          "（一覧は xlsx-tool init --list）。")
    return resources.files("xlsx_tool.templates").joinpath(f"{name}.toml").read_text(encoding="utf-8")


def default_fiscal_year(today: dt.date | None = None) -> int:
    """A results survey asks about the fiscal year that has just ended."""
    return fiscal_year_of(today or dt.date.today()) - 1


def init_survey(folder: Path, template: str, fiscal_year: int | None = None) -> list[Path]:
    """Write survey.toml, an empty master and the three numbered folders; return what was made."""
    if (folder / S.DEFINITION_FILE).exists():
        raise SurveyError(f"{folder} には既に {S.DEFINITION_FILE} があります。別のフォルダを指定してください。")
    text = template_text(template)
    year = fiscal_year or default_fiscal_year()
    text = re.sub(r"(?m)^fiscal_year\s*=.*$", f"fiscal_year = {year}", text, count=1)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    definition = folder / S.DEFINITION_FILE
    atomic_write(definition, text.encode("utf-8"))
    made.append(definition)
    survey, problems = S.load_definition(folder)
    if survey is None:  # a shipped template must load; this guards our own mistakes
        raise SurveyError("テンプレートを読み込めません: " + " / ".join(p.text() for p in problems))
    for name in (S.FORMS_DIR, S.RETURNS_DIR, S.OUTPUT_DIR):
        (folder / name).mkdir(exist_ok=True)
        made.append(folder / name)
    master = folder / survey.master_file
    atomic_write(master, empty_master(survey))
    made.append(master)
    return made


def master_columns(survey: S.Survey) -> list[str]:
    cols = [S.COL_NUMBER, S.COL_NAME, survey.group_label, S.COL_DEPARTMENT, S.COL_INDICATOR,
            S.COL_UNIT, S.COL_TARGET, S.COL_PREV_RATING]
    if survey.direction_field:
        cols.append(S.COL_PREV_DIRECTION)
    return cols + [S.COL_ACHIEVEMENT]


def empty_master(survey: S.Survey) -> bytes:
    """The master with its header, dropdowns for group and previous values, one example row."""
    buffer = io.BytesIO()
    wb = new_workbook(buffer)
    ws = wb.add_worksheet("施策マスタ")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    example = wb.add_format({"font_color": "#7F7F7F", "italic": True})
    cols = master_columns(survey)
    widths = {S.COL_NAME: 40, S.COL_INDICATOR: 24, S.COL_ACHIEVEMENT: 40, S.COL_DEPARTMENT: 16}
    group = survey.groups[0].id if survey.groups else "①"
    sample = {S.COL_NUMBER: "1", S.COL_NAME: f"{EXAMPLE_MARK}Web会議の推進", survey.group_label: group,
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
    if survey.groups:
        ok(ws.data_validation(1, cols.index(survey.group_label), last, cols.index(survey.group_label),
                              {"validate": "list", "source": [g.id for g in survey.groups]}), "groups")
    prev = cols.index(S.COL_PREV_RATING)
    ok(ws.data_validation(1, prev, last, prev,
                          {"validate": "list", "source": list(survey.rating_scale.names)}), "previous")
    if survey.direction_scale is not None:
        c = cols.index(S.COL_PREV_DIRECTION)
        ok(ws.data_validation(1, c, last, c,
                              {"validate": "list", "source": list(survey.direction_scale.names)}),
           "previous direction")
    ws.freeze_panes(1, 0)
    return close_to_bytes(wb, buffer)
