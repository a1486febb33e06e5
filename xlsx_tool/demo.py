"""demo: the bundled example survey, and departments simulated filling their forms.

Each generated form is opened, its input cells filled from the example's answers the way a
department would type them, and saved into 2_回収/ (never written into the ledger directly).
Editing an existing workbook needs openpyxl; xlsxwriter only writes new ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xlsx_tool.bundled import bundled
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded
from xlsx_tool.errors import SurveyError
from xlsx_tool.forms import layout as L
from xlsx_tool.problems import sentence
from xlsx_tool.textnorm import measure_key
from xlsx_tool.xlsxout import ensure_folder

EXAMPLE = "ict2025"
ANSWERS_FILE = "回答例.csv"


def copy_example(target: Path, name: str = EXAMPLE) -> None:
    """Copy the bundled example (definition, master, department list) into a new survey folder."""
    if (target / S.DEFINITION_FILE).exists():
        raise SurveyError(sentence("demo-folder-used", folder=target))
    source = bundled("examples").joinpath(name)
    ensure_folder(target)
    for entry in source.iterdir():
        if entry.name.endswith((".toml", ".csv")):
            (target / entry.name).write_bytes(entry.read_bytes())
    for sub in (S.FORMS_DIR, S.RETURNS_DIR, S.OUTPUT_DIR):
        (target / sub).mkdir(exist_ok=True)


def example_answers(folder: Path) -> dict[str, dict[str, str]]:
    """measure number -> field -> typed text, from the example's answer sheet."""
    text = (folder / ANSWERS_FILE).read_text(encoding="utf-8-sig")
    rows = csv.DictReader(io.StringIO(text))
    return {measure_key(r.pop(S.COL_NUMBER)): r for r in rows}


def form_positions(wb) -> tuple[str, dict[str, int], dict[str, int]]:
    """(input sheet, field -> column, measure -> row) from a form's identification sheet."""
    columns, rows, sheet = {}, {}, ""
    for kind, key, value in wb[L.ID_SHEET].iter_rows(min_col=1, max_col=3, values_only=True):
        if kind == "column":
            columns[key] = int(value)
        elif kind == "measure":
            rows[key] = int(value)
        elif kind == "sheet":
            sheet = key
    return sheet, columns, rows


def fill_form(form: Path, out: Path, answers: Mapping[str, Mapping[str, object]],
              respondent: dict[str, tuple[int, str]] | None = None) -> int:
    """Type answers into a form's input cells; save as `out`. Returns the cells filled.

    `respondent`: label -> (1-based column of its input cell, value), for 記入者 and 内線.
    """
    import openpyxl

    wb = openpyxl.load_workbook(form)
    sheet, columns, rows = form_positions(wb)
    ws = wb[sheet]
    filled = 0
    for _label, (column, text) in (respondent or {}).items():
        cell = ws.cell(L.RESPONDENT_ROW + 1, column)
        if text and not cell.protection.locked:
            cell.value = text
            cell.data_type = "s"
    for measure, fields in answers.items():
        if measure not in rows:
            continue
        for name, value in fields.items():
            if name not in columns or value in (None, ""):
                continue
            cell = ws.cell(rows[measure], columns[name])
            if cell.protection.locked:
                continue  # a department cannot type into a locked cell (終了 rows)
            cell.value = typed(value)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even if it starts with "="
            filled += 1
        _refit(ws, rows[measure])
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return filled


def _refit(ws: Any, row: int) -> None:
    """Grow the row to its text, as Excel does while a department types (openpyxl does not)."""
    from openpyxl.utils import get_column_letter

    from xlsx_tool.xlsxout import text_height

    need = 0.0
    for cell in ws[row]:
        if isinstance(cell.value, str) and cell.alignment.wrap_text:
            width = ws.column_dimensions[get_column_letter(cell.column)].width or 8.43
            need = max(need, text_height(cell.value, width))
    current = ws.row_dimensions[row].height or 15.0
    if need > current:
        ws.row_dimensions[row].height = need


def typed(value: object) -> object:
    """What Excel stores when a person types this text: numbers become numbers."""
    if isinstance(value, str):
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def fill_all(loaded: Loaded, forms: list[Path]) -> list[Path]:
    folder = loaded.survey.folder
    answers = example_answers(folder)
    names = {v: k for k, v in L.file_names(loaded.survey, loaded.master.departments).items()}
    at = L.respondent_cells(L.columns(loaded))
    returned = []
    for form in forms:
        department = names.get(form.name, "")
        contact = loaded.departments_list.get(department) if loaded.departments_list else None
        respondent = {"記入者": (at["記入者"][1] + 1, contact.person),
                      "内線": (at["内線"][1] + 1, contact.extension)} if contact else {}
        out = folder / S.RETURNS_DIR / form.name
        fill_form(form, out, answers, respondent)
        returned.append(out)
    return returned
