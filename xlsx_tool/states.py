"""Each department's state in the survey, named once: 提出済, 要修正, 未提出.

The ledger stores the value, the JSON shows it, the status workbook, the console and the mails
label it; the sentence that counts them is written here only.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    SUBMITTED = "submitted"  # 提出済: a valid submission
    NEEDS_FIX = "needs_fix"  # 要修正: submitted, with problems to fix
    MISSING = "missing"  # 未提出: nothing received

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {Status.SUBMITTED: "提出済", Status.NEEDS_FIX: "要修正", Status.MISSING: "未提出"}


NOT_ASKED = "提出不要"  # every measure of the department has ended: no form went out


def label(status: str, asked: bool = True) -> str:
    """提出済, 要修正, 未提出, or 提出不要 for a department that was not asked."""
    return Status(status).label if asked else NOT_ASKED


def status_counts(departments: Iterable[Any], total: bool = True) -> str:
    """「提出済 7 課、要修正 1 課、未提出 1 課（全 9 課）」, with 「提出不要 1 課」 where a department
    was not asked: the one sentence that counts departments (`departments`: each with .status
    and .asked), for the console, the status workbook and the demo."""
    seen = [(Status(d.status), getattr(d, "asked", True)) for d in departments]
    parts = [f"{s.label} {sum(x == s and asked for x, asked in seen)} 課" for s in Status]
    not_asked = sum(not asked for _x, asked in seen)
    if not_asked:
        parts.append(f"{NOT_ASKED} {not_asked} 課")
    return "、".join(parts) + (f"（全 {len(seen)} 課）" if total else "")
