"""Correction copies (修正依頼): for each department 要修正, a fresh form with its answers.

The copy carries the department's answers as it typed them, each problem cell marked until
the value is fixed, the reasons printed beside each row, and the resubmission deadline.
"""

from __future__ import annotations

from pathlib import Path

from xlsx_tool import problems as P
from xlsx_tool.collect.decide import NEEDS_FIX, CollectResult
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded
from xlsx_tool.forms import layout as L
from xlsx_tool.forms.writer import Correction, Mark, form_bytes
from xlsx_tool.xlsxout import atomic_write

CORRECTIONS_DIR = "修正依頼"
CORRECTION_PREFIX = "【修正依頼】"


def correction_name(loaded: Loaded, department: str) -> str:
    names = L.file_names(loaded.survey, loaded.master.departments)
    return CORRECTION_PREFIX + names[department]


def write_corrections(loaded: Loaded, result: CollectResult, deadline: str | None = None) -> list[Path]:
    """Write every correction copy into 3_集計/修正依頼/ and return the paths."""
    survey = loaded.survey
    folder = survey.path(S.OUTPUT_DIR, CORRECTIONS_DIR)
    if folder.is_dir():  # our own earlier outputs: a fixed department must not keep a stale copy
        for old in folder.glob(f"{CORRECTION_PREFIX}*.xlsx"):
            old.unlink(missing_ok=True)
    written = []
    by_file = {s.file: s for s in result.submissions}
    fields = {f.name for f in survey.fields}
    names = L.file_names(survey, loaded.master.departments)
    for d in result.departments:
        if d.status != NEEDS_FIX:
            continue
        sub = by_file[d.file]
        mine = {m.number for m in loaded.measures_of(d.department)}
        answers = {m: {**sub.typed.get(m, {}), **values} for m, values in sub.answers.items()}
        for m, typed in sub.typed.items():
            answers.setdefault(m, dict(typed))
        correction = Correction(source=Path(sub.file).name, count=sub.errors,
                                deadline=deadline or survey.resubmit_deadline, respondent=dict(sub.respondent))
        for p in sub.problems:
            if p.severity == P.NOTICE:
                continue
            sent = sub.typed.get(p.measure, {}).get(p.field)
            if p.measure in mine and p.field in fields:
                correction.marks.setdefault((p.measure, p.field), []).append(Mark(p.code, p.message, sent))
            elif p.measure in mine:
                correction.marks.setdefault((p.measure, ""), []).append(Mark(p.code, p.message))
            elif p.is_error:
                where = f"施策番号 {p.measure}：" if p.measure else ""
                correction.general.append(where + p.message)
        path = folder / (CORRECTION_PREFIX + names[d.department])
        atomic_write(path, form_bytes(loaded, d.department, answers, correction))
        d.correction = path.name
        written.append(path)
    return written
