"""Each department's state in the survey, named once: 提出済, 要修正, 未提出.

The ledger stores the value, the JSON shows it, the status workbook, the console and the mails
label it; the sentence that counts them is written here only.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    SUBMITTED = "submitted"  # 提出済: a valid submission
    NEEDS_FIX = "needs_fix"  # 要修正: submitted, with problems to fix
    MISSING = "missing"  # 未提出: nothing received

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {Status.SUBMITTED: "提出済", Status.NEEDS_FIX: "要修正", Status.MISSING: "未提出"}
STATUS_LABEL: dict[str, str] = {s.value: s.label for s in Status}


def status_counts(statuses: Iterable[str]) -> str:
    """「提出済 7 課、要修正 1 課、未提出 1 課（全 9 課）」, the one sentence that counts them."""
    seen = [Status(s) for s in statuses]
    parts = "、".join(f"{s.label} {sum(x == s for x in seen)} 課" for s in Status)
    return f"{parts}（全 {len(seen)} 課）"
