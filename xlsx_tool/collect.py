"""collect: every file in 2_回収/ accounted for, each department given a status.

提出済 (submitted), 要修正 (needs_fix) or 未提出 (missing). The newest submission of a
department (save time inside the file, then the file's modification time) is its answer;
the others are listed as superseded and stay in the ledger. Returned files are only read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import ledger
from . import problems as P
from . import survey as S
from .forms import asked_departments, form_bytes, form_file_name
from .master import Loaded
from .problems import Problem
from .sandbox import read_all
from .validate import Submission, check_submission
from .xlsxout import atomic_write

SUBMITTED, NEEDS_FIX, MISSING = "submitted", "needs_fix", "missing"
STATUS_LABEL = {SUBMITTED: "提出済", NEEDS_FIX: "要修正", MISSING: "未提出"}
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods", ".zip"}
TEMP_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
CORRECTIONS_DIR = "修正依頼"
CORRECTION_PREFIX = "【修正依頼】"


@dataclass
class DepartmentStatus:
    department: str
    status: str
    file: str = ""
    received: str = ""
    measures: int = 0
    errors: int = 0
    warnings: int = 0

    def as_dict(self) -> dict:
        return {"department": self.department, "status": self.status, "file": self.file,
                "received": self.received, "measures": self.measures, "problems": self.errors,
                "warnings": self.warnings}


@dataclass
class CollectResult:
    departments: list[DepartmentStatus]
    problems: list[Problem]
    skipped: list[dict]
    submissions: list[Submission]
    outputs: list[Path] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(d.status == SUBMITTED for d in self.departments)

    def count(self, status: str) -> int:
        return sum(d.status == status for d in self.departments)

    def as_json(self) -> dict:
        return {
            "departments": [d.as_dict() for d in self.departments],
            "problems": [{"file": p.file, "department": p.department or None, "sheet": p.sheet,
                          "cell": p.cell, "measure": p.measure, "field": p.field, "code": p.code,
                          "severity": p.severity, "message": p.message} for p in self.problems],
            "skipped": self.skipped,
            "outputs": [str(p) for p in self.outputs],
        }


def skip_reason(path: Path) -> str | None:
    """Files that are not submissions: Excel lock files, temp files, other documents."""
    name = path.name
    if name.startswith("~$"):
        return "lock-file"
    if name.startswith((".", "~")) or name.lower().endswith((".tmp", "~", ".bak")) or name.lower() in TEMP_NAMES:
        return "temp-file"
    if path.suffix.lower() not in SPREADSHEET_SUFFIXES:
        return "not-spreadsheet"
    return None


def _time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def received(sub: Submission) -> str:
    """When the department saved it: the time inside the file, else the file's own time."""
    return sub.saved_at or sub.mtime


def collect(loaded: Loaded, progress: Callable[[int, int], None] | None = None,
            write_outputs: bool = True, workers: int | None = None) -> CollectResult:
    survey = loaded.survey
    folder = survey.folder
    returns = survey.path(S.RETURNS_DIR)
    paths = sorted(p for p in returns.rglob("*") if p.is_file()) if returns.is_dir() else []
    skipped, to_read = [], []
    for path in paths:
        rel = path.relative_to(folder).as_posix()
        reason = skip_reason(path)
        if reason:
            skipped.append({"file": rel, "code": reason, "reason": P.MESSAGES[reason][1]})
        else:
            to_read.append(path)
    submissions: list[Submission] = []
    for done, (path, raw) in enumerate(read_all(to_read, workers=workers), 1):
        try:
            mtime = dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")
        except OSError:
            mtime = ""
        submissions.append(check_submission(loaded, raw, path.relative_to(folder).as_posix(), mtime))
        if progress:
            progress(done, len(to_read))
    submissions.sort(key=lambda s: s.file)
    result = decide(loaded, submissions, skipped)
    sha_by_file = {s.file: s.sha256 for s in submissions}
    current = {d.department: (sha_by_file.get(d.file), d.status) for d in result.departments}
    ledger.record(survey.path(S.LEDGER_FILE), submissions, current)
    if write_outputs:
        from .status_book import status_workbook

        out = survey.path(S.OUTPUT_DIR)
        path = out / survey.status_file
        atomic_write(path, status_workbook(loaded, result, ledger.history(survey.path(S.LEDGER_FILE))))
        result.outputs.append(path)
        result.outputs += write_corrections(loaded, result)
    return result


def decide(loaded: Loaded, submissions: list[Submission], skipped: list[dict]) -> CollectResult:
    """Pick each department's current submission and give every department its status."""
    by_department: dict[str, list[Submission]] = {}
    problems: list[Problem] = []
    for s in submissions:
        if s.identified:
            by_department.setdefault(s.department, []).append(s)
        else:
            problems += s.problems
    departments = []
    asked = set(asked_departments(loaded))
    for d in loaded.master.departments:
        subs = by_department.get(d, [])
        if not subs:
            # A department whose measures have all ended has nothing to send.
            status = MISSING if d in asked else SUBMITTED
            departments.append(DepartmentStatus(d, status, measures=len(loaded.measures_of(d))))
            continue
        subs.sort(key=lambda s: (_time(s.saved_at), _time(s.mtime), s.file), reverse=True)
        chosen = subs[0]
        for older in subs[1:]:
            problems.append(P.make("superseded", file=older.file, department=d, newer=chosen.file))
        problems += chosen.problems
        departments.append(DepartmentStatus(
            d, NEEDS_FIX if chosen.errors else SUBMITTED, chosen.file, received(chosen),
            len(loaded.measures_of(d)), chosen.errors, chosen.warnings))
    return CollectResult(departments, problems, skipped, submissions)


def write_corrections(loaded: Loaded, result: CollectResult) -> list[Path]:
    """A fresh form per department with problems, its answers filled in and problem cells marked."""
    folder = loaded.survey.path(S.OUTPUT_DIR, CORRECTIONS_DIR)
    if folder.is_dir():  # our own earlier outputs: a fixed department must not keep a stale copy
        for old in folder.glob(f"{CORRECTION_PREFIX}*.xlsx"):
            old.unlink(missing_ok=True)
    written = []
    by_file = {s.file: s for s in result.submissions}
    field_names = {f.name for f in loaded.survey.fields}
    for d in result.departments:
        if d.status != NEEDS_FIX:
            continue
        sub = by_file[d.file]
        answers = {m: {**sub.typed.get(m, {}), **values} for m, values in sub.answers.items()}
        for m, typed in sub.typed.items():
            answers.setdefault(m, dict(typed))
        marks: dict[tuple[str, str], list[str]] = {}
        general = []
        for p in sub.problems:
            if p.severity == P.NOTICE:
                continue
            if p.measure and p.field in field_names:
                marks.setdefault((p.measure, p.field), []).append(p.message)
            elif p.measure:
                marks.setdefault((p.measure, ""), []).append(f"{p.field or '施策'}: {p.message}")
            else:
                general.append(p.message)
        note = (f"提出いただいた調査票（{Path(sub.file).name}）に {sub.errors} 件の修正箇所があります。"
                "赤色のセルにカーソルを合わせてコメントを確認し、修正して再提出してください。")
        if general:
            note += " " + " ".join(general)
        data = form_bytes(loaded, d.department, answers, {k: "\n".join(v) for k, v in marks.items()}, note)
        path = folder / (CORRECTION_PREFIX + form_file_name(loaded.survey, d.department))
        atomic_write(path, data)
        written.append(path)
    return written
