"""Deciding each department's answer from every file it sent, by evidence that can be trusted.

A department's files are ranked, and the first of them is its answer:
1. the form version: a file on a newer form (generate --force) beats one on an older form;
2. the order the section received them: the collect that first saw a file;
3. the save time written inside the file, read as it was meant: Excel writes it in UTC;
   LibreOffice writes local time marked UTC (「Z」), so on a Japanese PC its saves would look
   nine hours newer. The file's zip entry times and the program named in it tell which
   (save_time). A file that carries no save time is not ranked below one that does: its
   file time stands in;
4. the file's time in 2_回収 (when it was saved there);
5. its name, when nothing else tells them apart (then a warning asks the section to check).

Every file that lost is listed with the rule that decided, a newer file that changes answers
already received is a replacement (差し替え) with every changed answer and that rule, and a
newest file that has left 2_回収 is reported: the ledger keeps its answers and they still
count, until the section puts the file back or lets it go (collect --forget-missing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsx_tool import problems as P
from xlsx_tool.define.master import Loaded
from xlsx_tool.forms import layout as L
from xlsx_tool.ledger import OnRecord, Submission, same_basis
from xlsx_tool.problems import Problem
from xlsx_tool.states import Status
from xlsx_tool.textnorm import clip, natural_key

SUBMITTED, NEEDS_FIX, MISSING = Status.SUBMITTED, Status.NEEDS_FIX, Status.MISSING
__all__ = ["MISSING", "NEEDS_FIX", "SUBMITTED", "CollectResult", "DepartmentStatus",
           "Evidence", "Replacement", "decide", "received", "save_time"]

TRUST_WINDOW = dt.timedelta(minutes=2)  # a save time and a zip entry time of one save agree within this


@dataclass(frozen=True)
class ChangedAnswer:
    """One answer a replacement changed. `old_valid`/`new_valid`: False when that file held
    the value but it was not a valid answer (shown as typed, e.g. 「達成済」)."""

    measure: str
    field: str
    old: object
    new: object
    old_valid: bool = True
    new_valid: bool = True


@dataclass
class Replacement:
    department: str
    old_file: str
    new_file: str
    old_saved: str
    new_saved: str
    changes: list[ChangedAnswer]
    old_respondent: str = ""
    new_respondent: str = ""
    reason: str = ""  # the rule that put the new file first, in words

    def as_dict(self) -> dict[str, Any]:
        """Answers are cut at 200 characters here (the ledger and the status workbook keep them whole)."""
        return {"department": self.department, "old_file": self.old_file, "new_file": self.new_file,
                "old_respondent": self.old_respondent, "new_respondent": self.new_respondent,
                "reason": self.reason,
                "changes": [{"measure": c.measure, "field": c.field, "old": _bounded(c.old), "new": _bounded(c.new)}
                            for c in self.changes]}


def _bounded(value: object) -> object:
    return clip(value, 200) if isinstance(value, str) else value


@dataclass
class DepartmentStatus:
    department: str
    status: str
    file: str = ""
    received: str = ""  # when it was saved, as far as the evidence tells (ISO with offset)
    measures: int = 0
    errors: int = 0
    warnings: int = 0
    respondent: dict[str, str] = field(default_factory=dict)
    correction: str = ""  # file name of the correction copy
    replaced: bool = False
    unanswered: int = 0  # measures added to the master after its form was made
    asked: bool = True  # False: every measure of the department has ended, no form went out
    present: bool = True  # False: its answer comes from the ledger, the file has left 2_回収
    sha256: str = ""  # of the file whose answers count

    def as_dict(self) -> dict[str, Any]:
        return {"department": self.department, "status": str(self.status), "file": self.file,
                "received": self.received, "measures": self.measures, "problems": self.errors,
                "warnings": self.warnings, "respondent": self.respondent,
                "correction": self.correction or None, "replaced": self.replaced,
                "unanswered": self.unanswered, "asked": self.asked, "present": self.present}


@dataclass
class CollectResult:
    departments: list[DepartmentStatus]
    problems: list[Problem]
    skipped: list[dict[str, str]]
    submissions: list[Submission]
    replacements: list[Replacement] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)  # files let go by --forget-missing

    @property
    def unread(self) -> list[Submission]:
        """Files in 2_回収 that could not be read or recognised as a form of this survey."""
        return [s for s in self.submissions if not s.identified]

    @property
    def complete(self) -> bool:
        """Every department submitted, every measure answered, and every file read: exit 0."""
        return not self.unread and all(d.status == SUBMITTED and not d.unanswered for d in self.departments)

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
            "withdrawn": self.withdrawn,
            "outputs": [str(p) for p in self.outputs],
        }


# --- the save time, as far as it can be trusted ------------------------------------------------

@dataclass(frozen=True)
class SaveTime:
    when: dt.datetime | None  # aware; None when the file carries none that can be trusted
    how: str  # "utc", "local" (written as local time marked Z), "none" or "unreadable"


def parse_time(text: str) -> dt.datetime | None:
    """An ISO time, aware (no zone given: UTC, as the OOXML core properties mean), or None."""
    try:
        value = dt.datetime.fromisoformat(text.strip())  # Python 3.11 reads "Z" too
    except (ValueError, AttributeError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _local(naive: dt.datetime) -> dt.datetime:
    return naive.astimezone()  # a naive time is taken as this computer's local time


def save_time(saved_at: str, application: str = "", zip_time: str = "") -> SaveTime:
    """When the file was saved, by the time written inside it, checked against its other times.

    A save time marked 「Z」 is UTC for Excel (and openpyxl) but this PC's local time for
    LibreOffice. The zip entry times settle it where they can (measured: LibreOffice 7.4
    writes them in UTC, openpyxl in local time, Excel 1980-01-01): entries one zone offset
    *after* the written digits mean the digits are UTC; one offset *before*, that they are
    local time. Where they cannot (no entries, no offset between the zones, or entries that
    agree with neither), the program that saved the file decides.
    """
    value = parse_time(saved_at) if saved_at else None
    if value is None:
        return SaveTime(None, "none" if not saved_at else "unreadable")
    if value.year < 1990:
        return SaveTime(None, "unreadable")
    if value.utcoffset() != dt.timedelta(0):
        return SaveTime(value, "utc")  # written with its own zone: nothing to guess
    digits = value.replace(tzinfo=None)
    as_local = _local(digits)
    offset = as_local.utcoffset() or dt.timedelta(0)
    entries = None
    if zip_time:
        try:
            entries = dt.datetime.fromisoformat(zip_time)
        except ValueError:
            entries = None
    if entries is not None and offset:
        if abs(entries - (digits + offset)) <= TRUST_WINDOW:
            return SaveTime(value, "utc")
        if abs(entries - (digits - offset)) <= TRUST_WINDOW:
            return SaveTime(as_local, "local")
    lowered = application.lower()
    if "libreoffice" in lowered or "openoffice" in lowered:
        return SaveTime(as_local, "local")
    return SaveTime(value, "utc")


# --- ranking ---------------------------------------------------------------------------------

@dataclass
class Evidence:
    """What the ledger knows beyond the files read now (empty for a first collect)."""

    on_record: Mapping[str, list[OnRecord]] = field(default_factory=dict)  # department -> its files
    load: Callable[[str], Submission | None] = lambda _sha: None  # a stored result by sha256
    versions: Mapping[str, list[str]] = field(default_factory=dict)  # department -> versions, oldest first
    fingerprint: str = ""
    checker: str = ""
    collect_number: int = 1  # the number this collect will have


@dataclass
class _Candidate:
    sha256: str
    file: str
    version: str
    first_collect: int
    save: SaveTime
    mtime: dt.datetime | None
    present: bool
    usable: bool  # its stored check still holds (always, for a file read now)
    sub: Submission | None = None  # loaded when needed

    def key(self, versions: list[str], current: str) -> tuple:
        if self.version and self.version == current:
            rank = len(versions) + 1
        else:
            rank = versions.index(self.version) if self.version in versions else -1
        best = self.save.when or self.mtime or dt.datetime.min.replace(tzinfo=dt.UTC)
        mtime = self.mtime or dt.datetime.min.replace(tzinfo=dt.UTC)
        return (rank, self.first_collect, best, mtime, self.file)


# What put a file first, in words (the first rule of the ranking that told the two apart).
REASONS = {
    "version": "新しい版の調査票のため",
    "received": "後から受け付けたため",
    "saved": "ファイル内の保存日時が新しいため",
    "saved-local": "ファイル内の保存日時が新しいため（LibreOffice の保存日時は現地時刻として補正）",
    "file-time": "ファイルの日時（2_回収 に保存された日時）が新しいため（ファイル内に信頼できる保存日時がないため）",
    "name": "日時で判断できないため、ファイル名の順で選びました",
}


def _reason(a: _Candidate, b: _Candidate, ka: tuple, kb: tuple) -> str:
    """Why `a` ranks before `b`."""
    if ka[0] != kb[0]:
        return "version"
    if ka[1] != kb[1]:
        return "received"
    if ka[2] != kb[2]:
        if a.save.when and b.save.when:
            return "saved-local" if "local" in (a.save.how, b.save.how) else "saved"
        return "file-time"
    if ka[3] != kb[3]:
        return "file-time"
    return "name"


def received(sub: Submission) -> str:
    """When the department saved it, as far as the evidence tells: the trusted save time inside
    the file, else the file's own time."""
    when = save_time(sub.saved_at, sub.application, sub.zip_time).when
    return when.isoformat(timespec="seconds") if when else sub.mtime


def decide(loaded: Loaded, submissions: list[Submission], skipped: list[dict[str, str]],
           evidence: Evidence | None = None) -> CollectResult:
    """Pick each department's answer and give every department its status."""
    evidence = evidence or Evidence()
    by_department: dict[str, list[Submission]] = {}
    problems: list[Problem] = []
    for s in submissions:
        if s.identified:
            by_department.setdefault(s.department, []).append(s)
        else:
            problems += s.problems
    departments, replacements = [], []
    asked = set(loaded.asked)
    cols = L.columns(loaded)
    for d in loaded.master.departments:
        measures = loaded.measures_of(d)
        current = L.form_version(loaded.survey, measures, cols)
        decision = _Department(d, by_department.get(d, []), evidence, current)
        problems += decision.problems
        chosen = decision.chosen
        if chosen is None:
            # A department whose measures have all ended has nothing to send.
            status = MISSING if d in asked else SUBMITTED
            departments.append(DepartmentStatus(d, status, measures=len(measures), asked=d in asked))
            continue
        problems += chosen.problems
        if decision.replacement:
            replacements.append(decision.replacement)
        departments.append(DepartmentStatus(
            d, NEEDS_FIX if chosen.errors else SUBMITTED, chosen.file, received(chosen),
            len(measures), chosen.errors, chosen.warnings, dict(chosen.respondent),
            replaced=decision.replacement is not None,
            unanswered=sum(p.code in _UNANSWERED for p in chosen.problems),
            asked=d in asked, present=chosen.present, sha256=chosen.sha256))
    return CollectResult(departments, problems, skipped, submissions, replacements)


# Measures a department could not answer on the form it had (not its mistake): the form must go again.
_UNANSWERED = {"measure-added-after-form", "measure-ambiguous-after-form"}


class _Department:
    """The ranking of one department's files, and what it leads to."""

    def __init__(self, department: str, present: list[Submission], evidence: Evidence, current: str):
        self.department, self.evidence = department, evidence
        self.problems: list[Problem] = []
        self.replacement: Replacement | None = None
        self.chosen: Submission | None = None
        versions = list(evidence.versions.get(department, []))
        candidates: dict[str, _Candidate] = {}
        here = [_Candidate(s.sha256, s.file, s.form_version, s.first_collect or evidence.collect_number,
                           save_time(s.saved_at, s.application, s.zip_time),
                           parse_time(s.mtime) if s.mtime else None, True, True, s) for s in present]
        for c in sorted(here, key=lambda c: c.key(versions, current), reverse=True):
            if c.sha256 and c.sha256 in candidates:  # the same file twice (a copy in a subfolder)
                self.problems.append(P.make("duplicate-file", file=c.file, department=department,
                                            other=candidates[c.sha256].file))
                continue
            candidates[c.sha256 or c.file] = c
        for rec in evidence.on_record.get(department, []):
            if rec.sha256 in candidates:
                continue
            usable = same_basis(rec.fingerprint, evidence.fingerprint) and rec.checker == evidence.checker
            candidates[rec.sha256] = _Candidate(
                rec.sha256, rec.path, rec.form_version, rec.first_collect,
                save_time(rec.saved_at, rec.application, rec.zip_time),
                parse_time(rec.mtime) if rec.mtime else None, False, usable)
        if not candidates:
            return
        keyed = sorted(((c.key(versions, current), c) for c in candidates.values()),
                       key=lambda kc: kc[0], reverse=True)
        # a newest file that has left 2_回収: its answers still count while the check holds
        while keyed and not keyed[0][1].present:
            top = keyed[0][1]
            if top.usable:
                top.sub = evidence.load(top.sha256)
            if top.usable and top.sub is not None:
                top.sub.present = False
                self.problems.append(P.make("newest-file-missing", file=top.file, department=department))
                break
            self.problems.append(P.make("newest-file-gone-stale", file=top.file, department=department))
            keyed.pop(0)
        if not keyed:
            return
        first_key, first = keyed[0]
        self.chosen = first.sub
        if self.chosen is None:
            return
        others = keyed[1:]
        for key, other in others:
            if not other.present:
                continue
            why = REASONS[_reason(first, other, first_key, key)]
            self.problems.append(P.make("superseded", file=other.file, department=department,
                                        newer=first.file, why=why))
        if others:
            self.compare(first, first_key, others)

    def compare(self, first: _Candidate, first_key: tuple, others: list[tuple[tuple, _Candidate]]) -> None:
        """The replacement against the next file, and the warnings the ranking calls for."""
        department = self.department
        second_key, second = others[0]
        rule = _reason(first, second, first_key, second_key)
        if rule == "name":
            self.problems.append(P.make("order-unknown", file=first.file, department=department,
                                        other=second.file))
        # received later (or on a newer form), but saved before another file: an old file sent again?
        later = [c for _k, c in others if c.save.when and first.save.when
                 and c.save.when - first.save.when > TRUST_WINDOW]
        if later and rule in ("version", "received"):
            self.problems.append(P.make("older-save-chosen", file=first.file, department=department,
                                        other=later[0].file, why=REASONS[rule]))
        if second.sub is None:
            second.sub = self.evidence.load(second.sha256)
        if second.sub is None or second.sha256 == first.sha256 or self.chosen is None:
            return
        changes = _changes(second.sub, self.chosen)
        if changes:
            self.replacement = Replacement(
                department, second.file, first.file, received(second.sub), received(self.chosen), changes,
                second.sub.respondent.get("記入者", ""), self.chosen.respondent.get("記入者", ""),
                REASONS[rule])


def _changes(old: Submission, new: Submission) -> list[ChangedAnswer]:
    """Every answer that differs; a value held but not valid is shown as it was typed."""
    changes = []
    for measure in sorted(set(old.answers) | set(new.answers) | set(old.typed) | set(new.typed), key=natural_key):
        a, b = old.answers.get(measure, {}), new.answers.get(measure, {})
        ta, tb = old.typed.get(measure, {}), new.typed.get(measure, {})
        for name in dict.fromkeys([*a, *b, *ta, *tb]):
            before = (a[name], True) if name in a else (ta.get(name), name not in ta)
            after = (b[name], True) if name in b else (tb.get(name), name not in tb)
            if before != after:
                changes.append(ChangedAnswer(measure, name, before[0], after[0], before[1], after[1]))
    return changes
