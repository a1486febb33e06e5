"""demo: the whole cycle on the bundled example survey, departments simulated.

Each generated form is opened, its input cells filled from the example's answers the way a
department would type them, and saved into 2_回収/ (never written into the ledger directly).
Editing an existing workbook needs openpyxl; xlsxwriter only writes new ones.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

from . import survey as S
from .errors import SurveyError
from .forms import ID_SHEET
from .textnorm import measure_key

EXAMPLE = "ict2025"
ANSWERS_FILE = "回答例.csv"


def copy_example(target: Path, name: str = EXAMPLE) -> None:
    """Copy the bundled example (definition, master) into `target`, a new survey folder."""
    if (target / S.DEFINITION_FILE).exists():
        raise SurveyError(f"{target} には既に調査があります。空のフォルダを指定してください。")
    source = resources.files("xlsx_tool.examples").joinpath(name)
    target.mkdir(parents=True, exist_ok=True)
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


def fill_form(form: Path, out: Path, answers: dict[str, dict[str, object]]) -> int:
    """Type answers into a form's input cells (found through its identification sheet); save as `out`."""
    import openpyxl

    wb = openpyxl.load_workbook(form)
    ident = wb[ID_SHEET]
    columns, rows, sheet = {}, {}, None
    for kind, key, value in ident.iter_rows(min_col=1, max_col=3, values_only=True):
        if kind == "column":
            columns[key] = value
        elif kind == "measure":
            rows[key] = int(value)
        elif kind == "sheet":
            sheet = key
    ws = wb[sheet]
    filled = 0
    for measure, fields in answers.items():
        if measure not in rows:
            continue
        for name, value in fields.items():
            if name not in columns or value in (None, ""):
                continue
            cell = ws[f"{columns[name]}{rows[measure]}"]
            if cell.protection.locked:
                continue  # a department cannot type into a locked cell (終了 rows)
            cell.value = _typed(value)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even if it starts with "="
            filled += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return filled


def _typed(value: object) -> object:
    """What Excel stores when a person types this text: numbers become numbers."""
    if isinstance(value, str):
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def fill_all(folder: Path, forms: list[Path]) -> list[Path]:
    answers = example_answers(folder)
    returned = []
    for form in forms:
        out = folder / S.RETURNS_DIR / form.name
        fill_form(form, out, answers)
        returned.append(out)
    return returned
