"""summarize: the ledger's current answers -> tallies -> the report model -> 集計結果.xlsx and
実績報告書.docx (and `--json`), all from the one model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded
from xlsx_tool.errors import ToolError
from xlsx_tool.intake.sandbox import Pool
from xlsx_tool.ledger import AnswersState, CurrentAnswers
from xlsx_tool.ledger import current_answers as ledger_answers
from xlsx_tool.problems import Problem, sentence
from xlsx_tool.summarize.history import YearCounts
from xlsx_tool.summarize.report import Report, build
from xlsx_tool.summarize.tally import Tally, tally
from xlsx_tool.xlsxout import atomic_write


class StaleAnswers(ToolError):
    """The answers on record were checked against another definition or master."""


@dataclass
class SummaryResult:
    tally: Tally
    path: Path | None  # None when refused because of missing answers
    history: list[YearCounts] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    report: Report | None = None
    document: Path | None = None  # 実績報告書.docx

    def as_json(self, loaded: Loaded) -> dict:
        data = self.tally.as_json(loaded.survey)
        data["history"] = [y.as_json() for y in self.history]
        data["output"] = str(self.path) if self.path else None
        data["document"] = str(self.document) if self.document else None
        data["report"] = self.report.as_json() if self.report else []
        return data

    @property
    def outputs(self) -> list[Path]:
        return [p for p in (self.path, self.document) if p]

    @property
    def refused(self) -> bool:
        return self.path is None


def current_answers(loaded: Loaded) -> CurrentAnswers:
    """The last collect's answers, refused when the definition or master changed since."""
    answers = ledger_answers(loaded)
    if answers.state == AnswersState.STALE:
        raise StaleAnswers(sentence("stale-answers", folder=loaded.survey.folder))
    return answers


def summarize(loaded: Loaded, allow_missing: bool = False, pool: Pool | None = None) -> SummaryResult:
    from xlsx_tool.summarize.document import report_document
    from xlsx_tool.summarize.history import history
    from xlsx_tool.summarize.workbook import summary_workbook

    survey = loaded.survey
    answers = current_answers(loaded)
    t = tally(survey, loaded.master, answers.answers, answers.invalid)
    years, notes = history(loaded, t, pool)
    if t.missing and not allow_missing:
        return SummaryResult(t, None, years, notes)
    model = build(survey, loaded.master, t)
    path = survey.path(S.OUTPUT_DIR, survey.summary_file)
    atomic_write(path, summary_workbook(survey, loaded.master, t, years, model))
    document, template_notes = report_document(survey, model)
    doc_path = survey.path(S.OUTPUT_DIR, survey.report_file)
    atomic_write(doc_path, document)
    return SummaryResult(t, path, years, notes + template_notes, model, doc_path)
