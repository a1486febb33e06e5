"""The department list (所管課一覧): who to write to and whom to call, per department.

Optional (`departments = "所管課一覧.xlsx"` in survey.toml), .xlsx or .csv with the header
所管課, 担当者, 内線, メール. It feeds the forms' contact lines, the status workbook and
`xlsx-tool mail`. Read like the master: same pre-flight, same confinement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from xlsx_tool import problems as P
from xlsx_tool.define.schema import mail_problem
from xlsx_tool.define.survey import Survey
from xlsx_tool.intake.sandbox import Pool
from xlsx_tool.problems import Problem
from xlsx_tool.textnorm import choice_key, squash

COL_DEPARTMENT = "所管課"
COL_PERSON = "担当者"
COL_EXTENSION = "内線"
COL_MAIL = "メール"
COLUMNS = (COL_DEPARTMENT, COL_PERSON, COL_EXTENSION, COL_MAIL)
_ALIASES = {"メールアドレス": COL_MAIL, "e-mail": COL_MAIL, "email": COL_MAIL, "電話": COL_EXTENSION,
            "内線番号": COL_EXTENSION, "担当": COL_PERSON, "担当者名": COL_PERSON, "課名": COL_DEPARTMENT}


@dataclass(frozen=True)
class Contact:
    department: str
    person: str = ""
    extension: str = ""
    email: str = ""
    row: int = 0

    def line(self) -> str:
        """「佐藤 一郎（内線 2021）」: who to call, as one short line under a label that already
        says 担当 (「ご担当」, 「担当者・内線」)."""
        extension = f"内線 {self.extension}" if self.extension else ""
        if self.person:
            return f"{self.person}（{extension}）" if extension else self.person
        return extension


@dataclass(frozen=True)
class DepartmentList:
    file: str
    contacts: dict[str, Contact]  # keyed by the master's spelling of the department

    def get(self, department: str) -> Contact | None:
        return self.contacts.get(department)


def in_list_order(departments: Iterable[str], listing: DepartmentList | None) -> list[str]:
    """Departments as the section lists them: the 所管課一覧's row order, then the others in
    the order given (the master's). Every list of departments a person reads uses it."""
    given = list(dict.fromkeys(departments))
    if listing is None:
        return given
    rank = {d: i for i, d in enumerate(listing.contacts)}
    return sorted(given, key=lambda d: rank.get(d, len(rank)))  # stable: the rest keep their order


def load_departments(survey: Survey, master, pool: Pool | None = None
                     ) -> tuple[DepartmentList | None, list[Problem]]:
    """Read and check the list named in survey.toml; (None, []) when it names none."""
    from xlsx_tool.define.master import TableError, _cell_text, read_table, shown_problems

    if not survey.departments_file:
        return None, []
    path: Path = survey.folder / survey.departments_file
    file = path.name
    if not path.is_file():
        return None, [P.make("departments-missing", file=file)]
    try:
        rows = read_table(path, pool)
    except TableError as exc:
        code, kw = exc.args
        return None, [P.make(code, file=file, **kw)]
    found: list[Problem] = []
    first = 1
    while rows and not any(_cell_text(v) for v in rows[0]):
        rows.pop(0)
        first += 1
    if not rows:
        return None, [P.make("departments-empty", file=file)]
    index: dict[str, int] = {}
    for i, value in enumerate(rows[0]):
        name = squash(_cell_text(value))
        name = _ALIASES.get(name.casefold(), _ALIASES.get(name, name))
        if name in COLUMNS and name not in index:
            index[name] = i
    if COL_DEPARTMENT not in index:
        return None, [P.make("missing-column", file=file, row=first, column=COL_DEPARTMENT)]

    def get(row: list[object], column: str) -> str:
        i = index.get(column)
        return _cell_text(row[i]) if i is not None and i < len(row) else ""

    by_key = {choice_key(d): d for d in master.departments}
    contacts: dict[str, Contact] = {}
    for r, row in enumerate(rows[1:], start=first + 1):
        name = squash(get(row, COL_DEPARTMENT))
        if not name:
            if any(_cell_text(v) for v in row):
                found.append(P.make("contact-without-department", file=file, row=r, column=COL_DEPARTMENT))
            continue
        department = by_key.get(choice_key(name))
        email = get(row, COL_MAIL)
        why = mail_problem(email) if email else None
        if why:  # refused here, not by the mail server halfway through `mail --send`
            found.append(P.make("bad-mail", file=file, row=r, column=COL_MAIL, value=email, detail=why))
            email = ""
        if department is None:
            found.append(P.make("department-not-in-master", file=file, row=r, column=COL_DEPARTMENT,
                                value=name))
            continue
        if department in contacts:
            found.append(P.make("duplicate-department", file=file, row=r, column=COL_DEPARTMENT,
                                value=name, other_row=contacts[department].row))
            continue
        contacts[department] = Contact(department, get(row, COL_PERSON), get(row, COL_EXTENSION), email, r)
    for d in master.departments:
        if d not in contacts:
            found.append(P.make("department-no-contact", file=file, value=d))
    header = [""] * len(rows[0])
    for name, i in index.items():
        header[i] = name
    found += shown_problems(file, rows, header, first)  # an 内線 whose format we cannot show, an error value
    return DepartmentList(file, contacts), found
