"""summarize: the ledger's current answers -> tallies -> 集計結果.xlsx."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import ledger
from . import survey as S
from .master import Loaded
from .summary import summary_workbook
from .tally import Tally, tally
from .xlsxout import atomic_write


@dataclass
class SummaryResult:
    tally: Tally
    path: Path | None  # None when refused because of missing answers

    @property
    def refused(self) -> bool:
        return self.path is None


def summarize(loaded: Loaded, allow_missing: bool = False) -> SummaryResult:
    survey = loaded.survey
    answers, _status, invalid = ledger.current_answers(survey.path(S.LEDGER_FILE))
    t = tally(survey, loaded.master, answers, invalid)
    if t.missing and not allow_missing:
        return SummaryResult(t, None)
    path = survey.path(S.OUTPUT_DIR, survey.summary_file)
    atomic_write(path, summary_workbook(survey, loaded.master, t))
    return SummaryResult(t, path)
