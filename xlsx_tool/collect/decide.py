"""Deciding each department's answer from every file it sent.

The newest submission (the save time inside the file, then the file's own time) is the
department's answer; older ones are listed as superseded and stay in the ledger. A newer
file that changes answers already received is a replacement (差し替え), with every changed
answer listed: a copy of another department's file, filled in and returned, must never
replace answers quietly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsx_tool import problems as P
from xlsx_tool.collect.validate import Submission
from xlsx_tool.define.master import Loaded
from xlsx_tool.problems import Problem
from xlsx_tool.textnorm import clip

SUBMITTED, NEEDS_FIX, MISSING = "submitted", "needs_fix", "missing"
STATUS_LABEL = {SUBMITTED: "提出済", NEEDS_FIX: "要修正", MISSING: "未提出"}


@dataclass(frozen=True)
class Change:
    measure: str
    field: str
    old: object
    new: object


@dataclass
class Replacement:
    department: str
    old_file: str
    new_file: str
    old_saved: str
    new_saved: str
    changes: list[Change]
    old_respondent: str = ""
    new_respondent: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Answers are cut at 200 characters here (the ledger and the status workbook keep them whole)."""
        return {"department": self.department, "old_file": self.old_file, "new_file": self.new_file,
                "old_respondent": self.old_respondent, "new_respondent": self.new_respondent,
                "changes": [{"measure": c.measure, "field": c.field, "old": _bounded(c.old), "new": _bounded(c.new)}
                            for c in self.changes]}


def _bounded(value: object) -> object:
    return clip(value, 200) if isinstance(value, str) else value


@dataclass
class DepartmentStatus:
    department: str
    status: str
    file: str = ""
    received: str = ""  # the save time, ISO with offset
    measures: int = 0
    errors: int = 0
    warnings: int = 0
    respondent: dict[str, str] = field(default_factory=dict)
    correction: str = ""  # file name of the correction copy
    replaced: bool = False
    unanswered: int = 0  # measures added to the master after its form was made

    def as_dict(self) -> dict[str, Any]:
        return {"department": self.department, "status": self.status, "file": self.file,
                "received": self.received, "measures": self.measures, "problems": self.errors,
                "warnings": self.warnings, "respondent": self.respondent,
                "correction": self.correction or None, "replaced": self.replaced,
                "unanswered": self.unanswered}


@dataclass
class CollectResult:
    departments: list[DepartmentStatus]
    problems: list[Problem]
    skipped: list[dict[str, str]]
    submissions: list[Submission]
    replacements: list[Replacement] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every department submitted, and every measure answered."""
        return all(d.status == SUBMITTED and not d.unanswered for d in self.departments)

    def count(self, status: str) -> int:
        return sum(d.status == status for d in self.departments)

    def as_json(self) -> dict[str, Any]:
        return {
            "departments": [d.as_dict() for d in self.departments],
            "problems": [{"file": p.file, "department": p.department or None, "sheet": p.sheet,
                          "cell": p.cell, "measure": p.measure, "field": p.field, "code": p.code,
                          "severity": p.severity, "message": p.message} for p in self.problems],
            "replacements": [r.as_dict() for r in self.replacements],
            "skipped": self.skipped,
            "outputs": [str(p) for p in self.outputs],
        }


def parse_time(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.strip())  # Python 3.11 reads "Z" too
    except (ValueError, AttributeError):
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def received(sub: Submission) -> str:
    """When the department saved it: the time inside the file, else the file's own time."""
    return sub.saved_at or sub.mtime


def _order(saved: str, mtime: str, file: str) -> tuple[dt.datetime, dt.datetime, str]:
    return parse_time(saved), parse_time(mtime), file


def decide(loaded: Loaded, submissions: list[Submission], skipped: list[dict[str, str]],
           earlier: dict[str, list[dict[str, Any]]] | None = None) -> CollectResult:
    """Pick each department's current submission and give every department its status.

    `earlier`: the ledger's identified files per department (to find what a newer file replaces).
    """
    earlier = earlier or {}
    by_department: dict[str, list[Submission]] = {}
    problems: list[Problem] = []
    for s in submissions:
        if s.identified:
            by_department.setdefault(s.department, []).append(s)
        else:
            problems += s.problems
    departments, replacements = [], []
    asked = set(loaded.asked)
    for d in loaded.master.departments:
        subs = by_department.get(d)
        if not subs:
            # A department whose measures have all ended has nothing to send.
            status = MISSING if d in asked else SUBMITTED
            departments.append(DepartmentStatus(d, status, measures=len(loaded.measures_of(d))))
            continue
        subs.sort(key=lambda s: _order(s.saved_at, s.mtime, s.file), reverse=True)
        chosen = subs[0]
        for older in subs[1:]:
            problems.append(P.make("superseded", file=older.file, department=d, newer=chosen.file))
        problems += chosen.problems
        replacement = _replacement(d, chosen, subs[1:], earlier.get(d, []))
        if replacement:
            replacements.append(replacement)
        departments.append(DepartmentStatus(
            d, NEEDS_FIX if chosen.errors else SUBMITTED, chosen.file, received(chosen),
            len(loaded.measures_of(d)), chosen.errors, chosen.warnings, dict(chosen.respondent),
            replaced=replacement is not None,
            unanswered=sum(p.code == "measure-added-after-form" for p in chosen.problems)))
    return CollectResult(departments, problems, skipped, submissions, replacements)


def _replacement(department: str, chosen: Submission, older: list[Submission],
                 on_record: list[dict[str, Any]]) -> Replacement | None:
    """What `chosen` changed compared with the newest earlier file of the department."""
    candidates: list[tuple[tuple, str, str, dict, dict]] = []
    for s in older:
        if s.sha256 != chosen.sha256:
            candidates.append((_order(s.saved_at, s.mtime, s.file), s.file, s.saved_at or s.mtime,
                               s.answers, s.respondent))
    present = {s.sha256 for s in older} | {chosen.sha256}
    for row in on_record:
        if row["sha256"] in present:
            continue
        result = row["result"]
        candidates.append((_order(row["saved_at"], row["mtime"], row["path"]), row["path"],
                           row["saved_at"] or row["mtime"], result.get("answers", {}),
                           result.get("respondent", {})))
    mine = _order(chosen.saved_at, chosen.mtime, chosen.file)
    before = [c for c in candidates if c[0] <= mine]
    if not before:
        return None
    _key, old_file, old_saved, old_answers, old_respondent = max(before, key=lambda c: c[0])
    changes = []
    for measure in sorted(set(old_answers) | set(chosen.answers), key=_natural):
        old, new = old_answers.get(measure, {}), chosen.answers.get(measure, {})
        for name in list(dict.fromkeys([*old, *new])):
            if old.get(name) != new.get(name):
                changes.append(Change(measure, name, old.get(name), new.get(name)))
    if not changes:
        return None
    return Replacement(department, old_file, chosen.file, old_saved, received(chosen), changes,
                       old_respondent.get("記入者", ""), chosen.respondent.get("記入者", ""))


def _natural(text: str) -> tuple:
    from xlsx_tool.textnorm import natural_key

    return natural_key(text)
