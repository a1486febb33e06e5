"""The survey definition (survey.toml): what is asked, of whom, with which scales.

`load_definition` never raises for a user's mistake: it returns the Survey it could build
and the list of every Problem found, so `check` can show them all at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from xlsx_tool import problems as P
from xlsx_tool.define import schema
from xlsx_tool.define.schema import MAIL_KINDS
from xlsx_tool.errors import SurveyError
from xlsx_tool.problems import Problem
from xlsx_tool.textnorm import choice_key
from xlsx_tool.wareki import fiscal_year_label

DEFINITION_FILE = "survey.toml"
FORMS_DIR = "1_配布"
RETURNS_DIR = "2_回収"
OUTPUT_DIR = "3_集計"
LEDGER_FILE = "回収台帳.sqlite3"

FIELD_TYPES = ("choice", "number", "text", "date")
# Columns of the master the tool knows; a field may not reuse one of these names.
COL_NUMBER = "施策番号"
COL_NAME = "施策名"
COL_DEPARTMENT = "所管課"
COL_INDICATOR = "指標"
COL_UNIT = "単位"
COL_TARGET = "目標値"
COL_PREV_RATING = "前年度評価"
COL_PREV_DIRECTION = "前年度方向性"
COL_ACHIEVEMENT = "主な成果"
COL_PREVIOUS_NUMBER = "前年度施策番号"  # maps a renumbered measure to last year's number
OPTIONAL_COLUMNS = (COL_INDICATOR, COL_UNIT, COL_TARGET, COL_PREV_RATING, COL_PREV_DIRECTION)
MASTER_COLUMNS = (COL_PREVIOUS_NUMBER,)  # known to the tool, never shown on a form
ENDED = "終了"
COMPLETED = "完了"
# [[fields]] required_when: the field is asked where the chosen rating differs from 前年度評価
# (評価の変更理由, which the report's change sentences carry).
RATING_CHANGED = "rating-changed"
# Excel limits for data validation messages.
INPUT_TITLE_MAX = 32
INPUT_MESSAGE_MAX = 255
INLINE_LIST_MAX = 255


@dataclass(frozen=True)
class ScaleValue:
    value: str
    definition: str = ""
    ranked: bool = True  # ranked values can improve or decline; その他/終了 cannot
    selectable: bool = True  # 終了 is set by the tool, never picked by a department


@dataclass(frozen=True)
class Scale:
    key: str
    values: tuple[ScaleValue, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)

    @property
    def selectable(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values if v.selectable)

    def rank(self, value: str) -> int | None:
        """0 for the best ranked value, None for unranked or unknown values."""
        ranked = [v.value for v in self.values if v.ranked]
        return ranked.index(value) if value in ranked else None

    def lookup(self, text: str) -> str | None:
        """The scale value a typed text means after width/space normalisation, if any."""
        key = choice_key(text)
        for v in self.values:
            if choice_key(v.value) == key:
                return v.value
        return None

    def definition(self, value: str) -> str:
        return next((v.definition for v in self.values if v.value == value), "")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = False
    scale: str | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    width: float | None = None
    percent: bool = False  # a number typed as 75% is read as 75
    required_when: str = ""  # RATING_CHANGED: required where the rating differs from 前年度評価


@dataclass(frozen=True)
class Group:
    id: str
    name: str

    @property
    def ordinal(self) -> bool:
        """Ⅰ, ① or 3 number a group; 「計画に関する進捗管理」 is a group of its own name."""
        return len(self.id) <= 4

    @property
    def display_name(self) -> str:
        return self.name or self.id

    def title(self, label: str) -> str:
        """「基本方針Ⅰ：業務の改善・効率化」 as the 2025 report writes it."""
        if not self.ordinal:
            return self.id
        return f"{label}{self.id}：{self.name}" if self.name else f"{label}{self.id}"


# Placeholders a mail subject or body may use (survey.toml [mail.<kind>]).
MAIL_PLACEHOLDERS = ("所管課", "担当者", "年度", "調査名", "提出期限", "再提出期限", "問合せ先",
                     "返送先", "未提出施策", "修正内容", "状況", "添付ファイル", "差出人", "期限", "署名",
                     "受領ファイル", "受付日時", "確認結果")


@dataclass(frozen=True)
class MailSettings:
    sender: str = ""
    sender_name: str = ""  # the From display name ([mail] from_name)
    signature: str = ""  # the block closing every body ([mail] signature)
    reply_to: str = ""
    smtp_host: str = ""
    smtp_port: int = 0
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    timeout: float = 30.0
    messages: dict[str, tuple[str, str]] = field(default_factory=dict)  # kind -> (subject, body)


@dataclass(frozen=True)
class Survey:
    folder: Path
    id: str
    title: str
    plan: str
    fiscal_year: int
    group_label: str
    groups: tuple[Group, ...]
    scales: dict[str, Scale]
    fields: tuple[Field, ...]
    rating_field: str
    direction_field: str | None
    master_file: str
    departments_file: str = ""
    deadline: str = ""
    resubmit_deadline: str = ""
    contact: str = ""
    return_to: str = ""
    password: str = ""
    input_sheet: str = "調査票"
    instructions_sheet: str = "記入要領"
    status_file: str = "回収状況.xlsx"
    summary_file: str = "集計結果.xlsx"
    report_file: str = "実績報告書.docx"
    report_template: str = ""  # the section's styled Word file ([report] template), optional
    report_period: str = ""  # what plan_start..plan_end is called (「前期実施計画」), after the plan's name
    achievement_field: str | None = None
    plan_short: str = ""
    plan_start: int | None = None
    plan_end: int | None = None
    previous: str = ""  # last year's survey folder, relative to this one (init --from)
    report_style: str = "2025"
    prefill_previous: bool = False
    mail: MailSettings = field(default_factory=MailSettings)

    @property
    def year_label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    @property
    def rating(self) -> Field:
        return self.field(self.rating_field)

    @property
    def rating_scale(self) -> Scale:
        return self.scales[self.rating.scale or ""]

    @property
    def direction_scale(self) -> Scale | None:
        if not self.direction_field:
            return None
        return self.scales[self.field(self.direction_field).scale or ""]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def reason_field(self) -> str | None:
        """The field asking why the rating changed from 前年度評価 (required_when), if asked."""
        return next((f.name for f in self.fields if f.required_when == RATING_CHANGED), None)

    def path(self, *parts: str) -> Path:
        return self.folder.joinpath(*parts)

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def fingerprint(self) -> str:
        """What a form and its answers depend on besides the measures: fields and scales.

        Built from named attributes, not from the dataclasses' dicts: a release that adds an
        attribute must not change the fingerprint of a survey that does not use it, or every
        form distributed before the upgrade would look out of date and every earlier year's
        answers stale (fingerprint_parts).
        """
        blob = json.dumps(
            [self.id, self.fiscal_year, self.input_sheet, [fingerprint_parts(f) for f in self.fields],
             {k: [fingerprint_parts(v) for v in s.values] for k, s in self.scales.items()}],
            ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# The attributes each fingerprint has always held (release 0.1.0). An attribute added since
# joins the fingerprint only where it differs from its default, so a survey that does not use
# it keeps the fingerprint it had.
_FINGERPRINTED = {
    "Field": ("name", "type", "required", "scale", "max_length", "minimum", "maximum", "help",
              "width", "percent"),
    "ScaleValue": ("value", "definition", "ranked", "selectable"),
}


def fingerprint_parts(item: Field | ScaleValue) -> dict[str, object]:
    kept = _FINGERPRINTED[type(item).__name__]
    parts = {k: getattr(item, k) for k in kept}
    for f in dataclasses.fields(item):
        if f.name not in kept and getattr(item, f.name) != f.default:
            parts[f.name] = getattr(item, f.name)
    return parts


def read_toml(path: Path) -> tuple[dict | None, list[Problem]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [P.make("toml-encoding", file=path.name)]
    except OSError:
        return None, [P.make("toml-unreadable", file=path.name)]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        return None, [P.make("toml-syntax", file=path.name, detail=toml_error_text(str(exc)))]


def toml_error_text(message: str) -> str:
    """tomllib's English message as a position in Japanese: 「5 行目 12 文字目付近」."""
    m = re.search(r"line (\d+), column (\d+)", message)
    if m:
        return f"{m.group(1)} 行目 {m.group(2)} 文字目付近"
    m = re.search(r"line (\d+)", message)
    return f"{m.group(1)} 行目付近" if m else "位置不明"


def load_definition(folder: Path) -> tuple[Survey | None, list[Problem]]:
    """Read survey.toml in `folder`; return the Survey (None if unusable) and all problems."""
    path = folder / DEFINITION_FILE
    if not path.is_file():
        raise SurveyError(P.sentence("no-definition", folder=folder, file=DEFINITION_FILE))
    data, unreadable = read_toml(path)
    if data is None:
        return None, unreadable
    found = schema.check(data, path.name) + schema.placeholders(data, path.name)
    return _Builder(data, path.name, found).build(folder)


class _Builder:
    """Turns the schema-checked TOML into a Survey, noting every problem instead of stopping.

    Values the schema refused are replaced by defaults here, so building goes on and
    `check` shows every problem at once; any error means no Survey is returned.
    """

    def __init__(self, data: dict, file: str, found: list[Problem]):
        self.data = data
        self.file = file
        self.found = found
        self.refused_fields: set[str] = set()  # declared, then dropped with a problem of their own

    def problem(self, code: str, **kw) -> None:
        self.found.append(P.make(code, file=self.file, **kw))

    def refuse(self, field: str, code: str, **kw) -> None:
        """A declared field dropped with its own sentence: names pointing at it are not reported again."""
        self.problem(code, field=field, **kw)
        self.refused_fields.add(field)

    @staticmethod
    def table(parent: dict, key: str) -> dict:
        value = parent.get(key)
        return value if isinstance(value, dict) else {}

    @staticmethod
    def text(table: dict, key: str, default: str = "") -> str:
        value = table.get(key)
        return value.strip() if isinstance(value, str) else default

    def build(self, folder: Path) -> tuple[Survey | None, list[Problem]]:
        d = self.data
        s = self.table(d, "survey")
        year = s.get("fiscal_year")
        year = year if isinstance(year, int) and not isinstance(year, bool) and 1989 <= year <= 2200 else 2000
        scales = self.scales(d.get("scales"), year)
        fields = self.fields(d.get("fields"), scales)
        groups = self.groups(d.get("groups"))
        rating_field = self.text(s, "rating_field", "評価")
        direction_field = self.text(s, "direction_field") or None
        achievement_field = self.text(s, "achievement_field") or None
        # With no field left, each was refused with its own sentence (or the schema refused
        # [[fields]]): a name pointing at one is not a second mistake.
        if fields:
            self.field_references(fields, rating_field, direction_field, achievement_field)
        form, outputs = self.table(d, "form"), self.table(d, "outputs")
        input_sheet = self.text(form, "input_sheet", "調査票")
        instructions_sheet = self.text(form, "instructions_sheet", "記入要領")
        if input_sheet == instructions_sheet:
            self.problem("bad-sheet-name", value=input_sheet, reason="2つのシートが同じ名前です")
        master_file = self.text(s, "master", "施策マスタ.xlsx")
        departments_file = self.text(s, "departments")
        status_file = self.text(outputs, "status", "回収状況.xlsx")
        summary_file = self.text(outputs, "summary", "集計結果.xlsx")
        report = self.table(d, "report")
        report_file = self.text(outputs, "report", "実績報告書.docx")
        report_template = self.text(report, "template")
        self.distinct_files(master_file, departments_file, status_file, summary_file, report_file, report_template)
        style = self.text(report, "style") or ("2020" if direction_field else "2025")
        mail = self.mail(self.table(d, "mail"))
        plan_start, plan_end = s.get("plan_start"), s.get("plan_end")
        if isinstance(plan_start, int) and isinstance(plan_end, int) and plan_start > plan_end:
            self.problem("bad-plan-period", low=plan_start, high=plan_end)
        # A placeholder left in place stops generate, not the reading: check shows the rest too.
        if any(p.is_error and p.code != "placeholder-left" for p in self.found):
            return None, self.found
        title = self.text(s, "title")
        survey = Survey(
            folder=folder, id=self.text(s, "id"), title=title,
            plan=self.text(s, "plan") or title, fiscal_year=year,
            group_label=self.text(s, "group_label", "基本方針"), groups=groups, scales=scales,
            fields=fields, rating_field=rating_field, direction_field=direction_field,
            master_file=master_file, departments_file=departments_file,
            deadline=self.text(s, "deadline"), resubmit_deadline=self.text(s, "resubmit_deadline"),
            contact=self.text(s, "contact"), return_to=self.text(s, "return_to"),
            password=self.text(form, "password"), input_sheet=input_sheet,
            instructions_sheet=instructions_sheet, status_file=status_file, summary_file=summary_file,
            achievement_field=achievement_field, plan_short=self.text(s, "plan_short"),
            plan_start=plan_start if isinstance(plan_start, int) else None,
            plan_end=plan_end if isinstance(plan_end, int) else None,
            report_file=report_file, report_template=report_template,
            report_period=self.text(report, "period"),
            previous=self.text(s, "previous"), report_style=style,
            prefill_previous=form.get("prefill_previous") is True, mail=mail,
        )
        return survey, self.found

    def field_references(self, fields: tuple[Field, ...], rating: str, direction: str | None,
                         achievement: str | None) -> None:
        names = {f.name: f for f in fields}
        for code, name in (("bad-rating-field", rating), ("bad-direction-field", direction)):
            if name is not None and name not in self.refused_fields and (
                    name not in names or names[name].type != "choice"):
                self.problem(code, value=name)
        if achievement is not None and achievement not in self.refused_fields and achievement not in names:
            self.problem("bad-value", key="survey.achievement_field", value=achievement,
                         hint="fields にある項目名を指定してください。")

    def distinct_files(self, *names: str) -> None:
        reserved = {DEFINITION_FILE.casefold(), LEDGER_FILE.casefold()}
        seen: set[str] = set()
        for name in (n for n in names if n):
            key = name.casefold()
            if key in reserved or key in seen:
                self.problem("file-name-reused", value=name)
            seen.add(key)

    def mail(self, table: dict) -> MailSettings:
        messages: dict[str, tuple[str, str]] = {}
        for kind in MAIL_KINDS:
            t = self.table(table, kind)
            body = t.get("body")
            messages[kind] = (self.text(t, "subject"), body if isinstance(body, str) else "")
        for kind, (subject, body) in messages.items():
            for where, text in (("subject", subject), ("body", body)):
                for name in re.findall(r"\{([^{}]*)\}", text):
                    if name not in MAIL_PLACEHOLDERS:
                        self.problem("bad-placeholder", key=f"mail.{kind}.{where}", value=name,
                                     choices="、".join("{" + n + "}" for n in MAIL_PLACEHOLDERS))
        port = table.get("smtp_port")
        timeout = table.get("timeout")
        return MailSettings(
            sender=self.text(table, "from"), reply_to=self.text(table, "reply_to"),
            sender_name=self.text(table, "from_name"),
            signature=table["signature"].strip("\n") if isinstance(table.get("signature"), str) else "",
            smtp_host=self.text(table, "smtp_host"),
            smtp_port=port if isinstance(port, int) and not isinstance(port, bool) else 0,
            starttls=table.get("starttls") is True, ssl=table.get("ssl") is True,
            username=self.text(table, "username"),
            timeout=float(timeout) if isinstance(timeout, int | float) and not isinstance(timeout, bool) else 30.0,
            messages={k: v for k, v in messages.items() if v[0] or v[1]})

    def scales(self, raw: object, year: int) -> dict[str, Scale]:
        if not isinstance(raw, dict) or not raw:
            return {}
        year_text = fiscal_year_label(year)
        scales = {}
        for key, table in raw.items():
            values_raw = table.get("values") if isinstance(table, dict) else None
            if not isinstance(values_raw, list) or not values_raw:  # the schema has said so
                scales[key] = Scale(key, ())  # it exists: the fields that name it are not wrong too
                continue
            values, seen = [], set()
            for item in values_raw:
                if isinstance(item, str):
                    item = {"value": item}
                if not isinstance(item, dict):
                    continue
                value = str(item.get("value", "")).strip()
                if not value:
                    continue  # missing or empty: the schema has said so
                reason = choice_problem(value)
                if reason:
                    self.problem("bad-choice", scale=key, value=value, reason=reason)
                    continue
                if choice_key(value) in seen:
                    self.problem("duplicate-choice", scale=key, value=value)
                    continue
                seen.add(choice_key(value))
                # Definitions may say {年度}: the report's wording names the fiscal year.
                definition = str(item.get("definition", "")).replace("{年度}", year_text)
                values.append(ScaleValue(value, definition, item.get("ranked", True) is not False,
                                         item.get("selectable", True) is not False))
            if not any(v.selectable for v in values):
                self.problem("no-selectable-choice" if values else "empty-scale", scale=key)
                scales[key] = Scale(key, tuple(values))
                continue
            scale = Scale(key, tuple(values))
            scales[key] = scale
            if len(",".join(scale.selectable)) > INLINE_LIST_MAX:
                self.problem("list-too-long", scale=key)
            if len(definitions_message(scale)) > INPUT_MESSAGE_MAX:
                self.problem("message-too-long", scale=key)
        return scales

    def fields(self, raw: object, scales: dict[str, Scale]) -> tuple[Field, ...]:
        if not isinstance(raw, list):
            return ()  # the schema has said so
        fields: list[Field] = []
        seen: set[str] = set()
        reserved = {COL_NUMBER, COL_NAME, COL_DEPARTMENT, *OPTIONAL_COLUMNS, *MASTER_COLUMNS,
                    "記入者", "内線", "指標・目標値", "前年度の評価・方向性"}
        for item in raw:
            if not isinstance(item, dict):
                continue
            name = self.text(item, "name")
            if not name:
                continue  # the schema has said so
            kind = item.get("type", "text")
            if kind not in FIELD_TYPES:
                self.refused_fields.add(name)  # the schema has said so
                continue
            if choice_key(name) in seen:
                self.problem("duplicate-field", field=name)
                continue
            if name in reserved or choice_key(name) in {choice_key(r) for r in reserved}:
                self.refuse(name, "reserved-field")
                continue
            reason = field_name_problem(name)
            if reason:
                self.refuse(name, "bad-field-name", reason=reason)
                continue
            seen.add(choice_key(name))
            scale = self.text(item, "scale") or (name if kind == "choice" else None)
            if kind == "choice" and scale not in scales:
                if "scales" not in self.data or isinstance(self.data["scales"], dict):  # else the schema has said so
                    self.problem("unknown-scale", field=name, value=scale)
                self.refused_fields.add(name)
                continue
            max_length = item.get("max_length")
            if not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= 32767:
                max_length = None
            if kind == "text" and max_length is None:
                max_length = 32767
            minimum, maximum = _number(item.get("minimum")), _number(item.get("maximum"))
            if minimum is not None and maximum is not None and minimum > maximum:
                self.problem("bad-range", field=name, low=_show_number(minimum), high=_show_number(maximum))
            width = _number(item.get("width"))
            required_when = self.required_when(item, name, kind, fields)
            fields.append(Field(
                name=name, type=kind, required=item.get("required") is True,
                scale=scale if kind == "choice" else None, max_length=max_length,
                minimum=minimum, maximum=maximum,
                help=self.text(item, "help"), width=width if width and 4 <= width <= 80 else None,
                percent=item.get("percent") is True, required_when=required_when))
        return tuple(fields)

    def required_when(self, item: dict, name: str, kind: str, earlier: list[Field]) -> str:
        """required_when = "rating-changed": a text field, not also always required, one per survey
        (the report's change sentence carries one reason)."""
        if item.get("required_when") != RATING_CHANGED:
            return ""  # absent, or the schema has said so
        if kind != "text":
            self.problem("reason-field-type", field=name)
        elif item.get("required") is True:
            self.problem("reason-field-required", field=name)
        elif any(f.required_when == RATING_CHANGED for f in earlier):
            self.problem("reason-field-twice", field=name,
                         value=next(f.name for f in earlier if f.required_when == RATING_CHANGED))
        else:
            return RATING_CHANGED
        return ""

    def groups(self, raw: object) -> tuple[Group, ...]:
        if not isinstance(raw, list):
            return ()
        groups, seen = [], set()
        for item in raw:
            if not isinstance(item, dict):
                continue
            gid = self.text(item, "id")
            if not gid:
                continue
            if choice_key(gid) in seen:
                self.problem("duplicate-group", value=gid)
                continue
            seen.add(choice_key(gid))
            groups.append(Group(gid, self.text(item, "name")))
        return tuple(groups)


_FORMULA_START = ("=", "+", "-", "@")  # what Excel takes as the start of a formula
_FORMULA_REASON = "先頭が = + - @ です（Excel が数式とみなします）"


def choice_problem(value: str) -> str | None:
    """A choice goes into a dropdown list written inline, comma-separated, at most 255 long."""
    if "," in value:
        return "カンマを含みます"
    if len(value) > 255:
        return f"{len(value)}文字で長すぎます（255文字以内）"
    if value.startswith(_FORMULA_START):
        return _FORMULA_REASON
    return None


def field_name_problem(name: str) -> str | None:
    """A field name becomes a column header, a data validation title and a ledger key."""
    if len(name) > 40:
        return f"{len(name)}文字で長すぎます（40文字以内）"
    if any(ord(ch) < 32 for ch in name):
        return "改行などの制御文字を含みます"
    if name.startswith(_FORMULA_START):
        return _FORMULA_REASON
    return None


def _show_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def ask_reason(survey: Survey, previous_year: bool, master_file: str) -> tuple[Survey, list[Problem]]:
    """The survey as its forms ask it: the reason for a changed rating only where the master has
    a previous year (a 前年度評価 to differ from); otherwise the field is left out, with a notice."""
    reason = survey.reason_field
    if reason is None or previous_year:
        return survey, []
    fields = tuple(f for f in survey.fields if f.name != reason)
    return dataclasses.replace(survey, fields=fields), [
        P.make("reason-field-unused", file=master_file, column=COL_PREV_RATING, field=reason)]


def definitions_message(scale: Scale) -> str:
    """The dropdown's input message: each selectable value with its definition."""
    return "\n".join(
        f"{v.value}：{v.definition}" if v.definition else v.value
        for v in scale.values if v.selectable)
