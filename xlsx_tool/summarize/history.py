"""Every year of the plan reachable through `previous` links, with its rating counts.

Each earlier year is read from its own folder (definition, master and the ledger's final
answers) and tallied as it was; a folder that moved or was never collected is reported and
left out, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xlsx_tool import problems as P
from xlsx_tool.define.master import Loaded
from xlsx_tool.define.years import load_previous
from xlsx_tool.errors import ToolError
from xlsx_tool.intake.sandbox import Pool
from xlsx_tool.ledger import AnswersState, current_answers
from xlsx_tool.problems import Problem
from xlsx_tool.summarize.tally import UNANSWERED, Tally, tally

MAX_YEARS = 50  # a plan spans a decade; this only stops a link that loops


@dataclass(frozen=True)
class YearCounts:
    fiscal_year: int
    label: str
    total: int
    ratings: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {"fiscal_year": self.fiscal_year, "label": self.label, "total": self.total,
                "ratings": self.ratings}


def counts(loaded: Loaded, t: Tally) -> YearCounts:
    return YearCounts(loaded.survey.fiscal_year, loaded.survey.year_label, t.total,
                      {r.value: r.count for r in t.ratings if r.value != UNANSWERED})


def history(loaded: Loaded, this_year: Tally, pool: Pool | None = None) -> tuple[list[YearCounts], list[Problem]]:
    """Oldest year first, this year last; and what could not be read."""
    years = [counts(loaded, this_year)]
    notes: list[Problem] = []
    seen = {loaded.survey.folder.resolve()}
    current = loaded
    while current.survey.previous and len(years) < MAX_YEARS:
        previous, reason = load_previous(current.survey, pool)
        if previous is None:
            notes.append(P.make("history-missing", file=str(current.survey.folder / "survey.toml"), detail=reason))
            break
        folder = previous.survey.folder.resolve()
        if folder in seen:
            break
        seen.add(folder)
        label = previous.survey.year_label
        try:
            snap = current_answers(previous, readonly=True)
        except ToolError as exc:  # another year's ledger held, broken or too new: said, not fatal
            notes.append(P.make("history-missing", file=str(folder), detail=f"{label}の台帳を読めません（{exc}）"))
        else:
            if snap.current:
                years.append(counts(previous, tally(previous.survey, previous.master, snap.answers, snap.invalid)))
            elif snap.state == AnswersState.STALE:
                notes.append(P.make("history-missing", file=str(folder), detail=(
                    f"{label}の施策マスタまたは調査定義が、その年度の回収の後に変更されています"
                    f"（その調査フォルダで collect を実行し直すと経年比較に載ります）")))
            else:
                notes.append(P.make("history-missing", file=str(folder), detail=f"{label}の回収結果が台帳にありません"))
        current = previous
    return sorted(years, key=lambda y: y.fiscal_year), notes
