"""Mail to departments: who needs which message, and the message itself.

distribute: every asked department, its current form attached. remind: departments 未提出
or 要修正 at the last collect (the form again, or the correction copy). correct: departments
要修正, their correction copy attached. The text comes from the defaults below or from
survey.toml [mail.<kind>], with named placeholders ({所管課}, {提出期限}, …).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded
from xlsx_tool.errors import ToolError
from xlsx_tool.ledger import AnswersState, current_answers, open_ledger

DISTRIBUTE, REMIND, CORRECT = "distribute", "remind", "correct"
KINDS = (DISTRIBUTE, REMIND, CORRECT)
FOLDERS = {DISTRIBUTE: "配布", REMIND: "督促", CORRECT: "修正依頼"}
LABELS = {DISTRIBUTE: "配布", REMIND: "督促", CORRECT: "修正依頼"}
MAIL_DIR = "4_メール"
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

DEFAULTS: dict[str, tuple[str, str]] = {
    DISTRIBUTE: (
        "【{調査名}】調査票の送付（{所管課}）",
        "{所管課}\n{担当者} 様\n\n"
        "お疲れ様です。{差出人}です。\n"
        "{年度}の「{調査名}」について、貴課の調査票をお送りします。\n"
        "添付の調査票（{添付ファイル}）に入力のうえ、{提出期限}までに返送先（{返送先}）へ提出してください。\n\n"
        "・黄色のセルに入力し、評価などは一覧（▼）から選んでください。\n"
        "・行や列の追加・削除、シート名の変更はしないでください。\n"
        "・記入方法は調査票の「記入要領」シートをご覧ください。\n\n"
        "問合せ先：{問合せ先}\n"),
    REMIND: (
        "【ご確認】{調査名}の提出について（{所管課}）",
        "{所管課}\n{担当者} 様\n\n"
        "お疲れ様です。{差出人}です。\n"
        "{年度}の「{調査名}」について、{状況}\n\n"
        "お手数ですが、{提出期限}までに返送先（{返送先}）へ提出をお願いします。\n"
        "添付：{添付ファイル}\n\n"
        "問合せ先：{問合せ先}\n"),
    CORRECT: (
        "【修正のお願い】{調査名}（{所管課}）",
        "{所管課}\n{担当者} 様\n\n"
        "お疲れ様です。{差出人}です。\n"
        "{年度}の「{調査名}」の調査票をご提出いただき、ありがとうございました。\n"
        "内容を確認したところ、修正が必要な箇所がありました。\n\n"
        "{修正内容}\n\n"
        "添付の修正依頼の調査票（{添付ファイル}）は、ご提出の内容を記入済みで、修正箇所を赤色で示し、"
        "右端の「修正内容」欄に理由を記載しています。修正のうえ、{再提出期限}までに返送先（{返送先}）へ"
        "再提出してください。\n\n"
        "問合せ先：{問合せ先}\n"),
}


@dataclass
class Message:
    department: str
    kind: str
    to: str
    subject: str
    body: str
    attachment: Path | None
    key: str  # what makes this message new (form version, copy hash, the collect it reminds about)
    message: EmailMessage | None = None
    outcome: str = ""  # "draft", "sent", "already-sent", "no-address", "failed", "would-send"
    detail: str = ""
    path: Path | None = None

    def as_json(self) -> dict:
        return {"department": self.department, "kind": self.kind, "to": self.to or None,
                "subject": self.subject, "attachment": self.attachment.name if self.attachment else None,
                "outcome": self.outcome, "detail": self.detail or None,
                "draft": str(self.path) if self.path else None,
                "message_id": self.message["Message-ID"] if self.message is not None else None}


class _Fill(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass
class Plan:
    kind: str
    messages: list[Message] = field(default_factory=list)


def plan(loaded: Loaded, kind: str) -> Plan:
    """The messages `kind` calls for, one per department that needs it."""
    survey = loaded.survey
    if kind == DISTRIBUTE:
        with open_ledger(survey.path(S.LEDGER_FILE)) as ledger:
            forms = ledger.distributions()
        wanted = [(d, forms.get(d)) for d in loaded.asked]
        missing = [d for d, rec in wanted if rec is None or not survey.path(S.FORMS_DIR, rec["file"]).is_file()]
        if missing:
            raise ToolError(f"調査票がまだ作られていない所管課があります（{'、'.join(missing[:5])}"
                            f"{' ほか' if len(missing) > 5 else ''}）。xlsx-tool generate {survey.folder} を"
                            "実行してから配布してください。")
        out = Plan(kind)
        for d, rec in wanted:
            assert rec is not None
            path = survey.path(S.FORMS_DIR, rec["file"])
            out.messages.append(_message(loaded, d, kind, path, rec["version"], {}))
        return out
    snap = current_answers(loaded)
    if snap.state == AnswersState.NEVER or not snap.status:
        raise ToolError(f"まだ回収（collect）の結果がありません。xlsx-tool collect {survey.folder} を実行してから"
                        "督促・修正依頼のメールを作ってください。")
    if not snap.current:
        raise ToolError("最後の回収（collect）の後に調査定義または施策マスタが変更されています。"
                        f"xlsx-tool collect {survey.folder} を実行してからメールを作ってください。")
    from xlsx_tool.collect.corrections import CORRECTIONS_DIR, correction_name
    from xlsx_tool.forms.layout import file_names

    names = file_names(survey, loaded.master.departments)
    with open_ledger(survey.path(S.LEDGER_FILE)) as ledger:
        forms = ledger.distributions()
    problems = {d: [p.as_dict() for p in found if p.is_error] for d, found in snap.problems.items()}
    out = Plan(kind)
    for d in loaded.master.departments:
        status = snap.status.get(d, "missing")
        copy = survey.path(S.OUTPUT_DIR, CORRECTIONS_DIR, correction_name(loaded, d))
        if kind == CORRECT and status != "needs_fix":
            continue
        if kind == REMIND and status not in ("missing", "needs_fix"):
            continue
        if status == "needs_fix":
            if not copy.is_file():
                raise ToolError(f"{d} の修正依頼の調査票 {copy.name} がありません。xlsx-tool collect を"
                                "実行し直してください。")
            key = hashlib.sha256(copy.read_bytes()).hexdigest()[:16]
            attachment = copy
        else:
            rec = forms.get(d)
            attachment = survey.path(S.FORMS_DIR, rec["file"] if rec else names[d])
            key = f"{status}:{snap.collect_number}"
        extra = {"状況": _situation(loaded, d, status, problems.get(d, [])),
                 "修正内容": _corrections(problems.get(d, [])), "未提出施策": _unanswered(loaded, d)}
        if kind == REMIND:  # a reminder is new after each collect that still finds the department behind
            key = f"{status}:{snap.collect_number}"
        out.messages.append(_message(loaded, d, kind, attachment if attachment.is_file() else None, key, extra))
    return out


def _corrections(problems: list[dict], limit: int = 15) -> str:
    lines = []
    for p in problems[:limit]:
        where = "・" + (f"施策番号 {p['measure']} " if p.get("measure") else "") + (f"{p['field']}：" if p.get("field") else "")
        lines.append(where + p.get("message", ""))
    if len(problems) > limit:
        lines.append(f"（ほか {len(problems) - limit} 件。添付の調査票の「修正内容」欄をご覧ください）")
    return "\n".join(lines)


def _unanswered(loaded: Loaded, department: str) -> str:
    return "、".join(f"No.{m.number} {m.name}" for m in loaded.measures_of(department))


def _situation(loaded: Loaded, department: str, status: str, problems: list[dict]) -> str:
    if status == "missing":
        return ("貴課からの調査票の提出をまだ確認できておりません。\n"
                f"対象の施策：{_unanswered(loaded, department)}\n調査票を改めて添付します。")
    return ("ご提出いただいた調査票に修正が必要な箇所があります。\n"
            f"{_corrections(problems)}\n修正箇所を示した調査票を添付します。")


def _message(loaded: Loaded, department: str, kind: str, attachment: Path | None, key: str,
             extra: dict[str, str]) -> Message:
    survey = loaded.survey
    contact = loaded.departments_list.get(department) if loaded.departments_list else None
    mail = survey.mail
    subject_t, body_t = mail.messages.get(kind) or DEFAULTS[kind]
    if not subject_t:
        subject_t = DEFAULTS[kind][0]
    if not body_t:
        body_t = DEFAULTS[kind][1]
    values = _Fill({
        "所管課": department, "担当者": (contact.person if contact and contact.person else "ご担当者"),
        "年度": survey.year_label, "調査名": survey.title, "提出期限": survey.deadline,
        "再提出期限": survey.resubmit_deadline or survey.deadline, "問合せ先": survey.contact,
        "返送先": survey.return_to or survey.contact, "添付ファイル": attachment.name if attachment else "（なし）",
        "差出人": survey.contact.split("（")[0] if survey.contact else "調査担当", **extra})
    subject = " ".join(subject_t.format_map(values).split())
    body = body_t.format_map(values)
    return Message(department, kind, contact.email if contact else "", subject, body, attachment, key)


def build(loaded: Loaded, m: Message, when: dt.datetime | None = None) -> EmailMessage:
    """The message as sent or saved; a draft opens in Outlook ready to send (X-Unsent: 1)."""
    mail = loaded.survey.mail
    msg = EmailMessage()
    msg["Subject"] = m.subject
    if mail.sender:
        msg["From"] = mail.sender
    msg["To"] = formataddr((str(Header(m.department, "utf-8")), m.to)) if m.to else ""
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg["Date"] = format_datetime((when or dt.datetime.now()).astimezone())
    domain = mail.sender.rsplit("@", 1)[-1] if "@" in mail.sender else "xlsx-tool.invalid"
    msg["Message-ID"] = make_msgid("xlsx-tool", domain)
    msg["X-Unsent"] = "1"
    msg["X-Mailer"] = "xlsx-tool"
    msg.set_content(m.body, cte="base64")
    if m.attachment is not None:
        # a Japanese file name goes out RFC 2231-encoded (filename*=utf-8''…), which Outlook reads;
        # name= on the Content-Type as well, for mail programs that look only there
        msg.add_attachment(m.attachment.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=m.attachment.name)
        list(msg.iter_attachments())[-1].set_param("name", m.attachment.name, header="Content-Type")
    return msg
