"""Mail to departments: who needs which message, and the message itself.

distribute: every asked department, its current form attached. remind: departments 未提出
or 要修正 at the last collect (the form again, or the correction copy). correct: departments
要修正, their correction copy attached. receipt: every department whose chosen file has had no
receipt yet (受領しました, the file and when it came, and whether anything needs fixing). The
text comes from the defaults below or from survey.toml [mail.<kind>], with named placeholders
({所管課}, {提出期限}, …).
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import quote

from xlsx_tool import problems as P
from xlsx_tool.define import survey as S
from xlsx_tool.define.departments import in_list_order
from xlsx_tool.define.master import Loaded
from xlsx_tool.define.schema import envelope
from xlsx_tool.errors import ToolError
from xlsx_tool.ledger import AnswersState, current_answers, open_ledger

DISTRIBUTE, REMIND, CORRECT, RECEIPT = "distribute", "remind", "correct", "receipt"
KINDS = (DISTRIBUTE, REMIND, CORRECT, RECEIPT)
FOLDERS = {DISTRIBUTE: "配布", REMIND: "督促", CORRECT: "修正依頼", RECEIPT: "受領"}
LABELS = {DISTRIBUTE: "配布", REMIND: "督促", CORRECT: "修正依頼", RECEIPT: "受領通知"}
MAIL_DIR = "4_メール"
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")

# One deadline per kind: a distribution and a reminder to a department that sent nothing give the
# submission deadline ({提出期限}); a correction request and a reminder to a department 要修正
# give the resubmission deadline written on the correction copy they attach. {期限} is the one
# that applies. Without a deadline, 「{期限}までに」 and 「、{期限}締切」 are left out.
DEFAULTS: dict[str, tuple[str, str]] = {
    DISTRIBUTE: (
        "【{年度} {調査名}】調査票の送付（{所管課}、{期限}締切）",
        "{所管課}\n{担当者} 様\n\n"
        "お疲れ様です。{差出人}です。\n"
        "{年度}の「{調査名}」について、貴課の調査票をお送りします。\n"
        "添付の調査票（{添付ファイル}）に入力のうえ、{期限}までにご提出ください。\n"
        "返送先：{返送先}\n\n"
        "・黄色のセルに入力し、評価などは一覧（▼）から選んでください。\n"
        "・行や列の追加・削除、シート名の変更はしないでください。\n"
        "・記入方法は調査票の「記入要領」シートをご覧ください。\n\n"
        "よろしくお願いいたします。\n\n{署名}"),
    REMIND: (
        "【ご確認】{年度} {調査名}の提出について（{所管課}、{期限}締切）",
        "{所管課}\n{担当者} 様\n\n"
        "お疲れ様です。{差出人}です。\n"
        "{年度}の「{調査名}」について、{状況}\n\n"
        "お手数ですが、{期限}までに{依頼}をお願いします。\n"
        "返送先：{返送先}\n"
        "添付：{添付ファイル}\n\n"
        "よろしくお願いいたします。\n\n{署名}"),
    CORRECT: (
        "【修正のお願い】{年度} {調査名}（{所管課}、{期限}締切）",
        "{所管課}\n{担当者} 様\n\n"
        "お疲れ様です。{差出人}です。\n"
        "{年度}の「{調査名}」の調査票をご提出いただき、ありがとうございました。\n"
        "内容を確認したところ、修正が必要な箇所がありました。\n\n"
        "{修正内容}\n\n"
        "添付の修正依頼の調査票（{添付ファイル}）は、ご提出の内容を記入済みで、修正箇所を赤色で示し、"
        "右端の「修正内容」欄に理由を記載しています。\n"
        "修正のうえ、{期限}までに再提出をお願いします。\n"
        "返送先：{返送先}\n\n"
        "よろしくお願いいたします。\n\n{署名}"),
    RECEIPT: (
        "【受領】{年度} {調査名}の調査票を受け付けました（{所管課}）",
        "{所管課}\n{担当者} 様\n\n"
        "お疲れ様です。{差出人}です。\n"
        "{年度}の「{調査名}」について、貴課の調査票を受領しました。ありがとうございました。\n\n"
        "受領したファイル：{受領ファイル}\n"
        "受付日時：{受付日時}\n\n"
        "{確認結果}\n\n"
        "よろしくお願いいたします。\n\n{署名}"),
}
RULE = "―" * 24  # the lines around a signature block, as Japanese office mail draws them


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
    """The messages `kind` calls for, one per department that needs it, in the section's order."""
    survey = loaded.survey
    if kind == DISTRIBUTE:
        with open_ledger(survey.path(S.LEDGER_FILE)) as ledger:
            forms = ledger.distributions()
        wanted = [(d, forms.get(d)) for d in in_list_order(loaded.asked, loaded.departments_list)]
        missing = [d for d, rec in wanted if rec is None or not survey.path(S.FORMS_DIR, rec["file"]).is_file()]
        if missing:
            shown = "、".join(missing[:5]) + (" ほか" if len(missing) > 5 else "")
            raise ToolError(P.sentence("mail-forms-missing", departments=shown, folder=survey.folder))
        out = Plan(kind)
        for d, rec in wanted:
            assert rec is not None
            path = survey.path(S.FORMS_DIR, rec["file"])
            out.messages.append(_message(loaded, d, kind, path, rec["version"], {}, survey.deadline))
        return out
    snap = current_answers(loaded)
    if snap.state == AnswersState.NEVER or not snap.status:
        raise ToolError(P.sentence("mail-not-collected", folder=survey.folder, kind=LABELS[kind]))
    if not snap.current:
        raise ToolError(P.sentence("mail-stale", folder=survey.folder))
    from xlsx_tool.collect.corrections import CORRECTIONS_DIR, correction_name
    from xlsx_tool.forms.layout import file_names

    names = file_names(survey, loaded.master.departments)
    with open_ledger(survey.path(S.LEDGER_FILE)) as ledger:
        forms = ledger.distributions()
    problems = {d: [p.as_dict() for p in found if p.is_error] for d, found in snap.problems.items()}
    if kind == RECEIPT:
        return _receipts(loaded, snap.chosen, snap.status, problems)
    out = Plan(kind)
    for d in in_list_order(loaded.master.departments, loaded.departments_list):
        status = snap.status.get(d, "missing")
        copy = survey.path(S.OUTPUT_DIR, CORRECTIONS_DIR, correction_name(loaded, d))
        if kind == CORRECT and status != "needs_fix":
            continue
        if kind == REMIND and status not in ("missing", "needs_fix"):
            continue
        if status == "needs_fix":
            if not copy.is_file():
                raise ToolError(P.sentence("mail-copy-missing", department=d, file=copy.name))
            data = copy.read_bytes()
            key = hashlib.sha256(data).hexdigest()[:16]
            attachment = copy
            # the copy says when to send it back: a reminder attaching it says the same
            deadline = copy_deadline(data)
        else:
            rec = forms.get(d)
            attachment = survey.path(S.FORMS_DIR, rec["file"] if rec else names[d])
            key = f"{status}:{snap.collect_number}"
            deadline = survey.deadline
        extra = {"状況": _situation(loaded, d, status, problems.get(d, [])),
                 "修正内容": _corrections(problems.get(d, [])), "未提出施策": _unanswered(loaded, d)}
        if kind == REMIND:  # a reminder is new after each collect that still finds the department behind
            key = f"{status}:{snap.collect_number}"
        out.messages.append(_message(loaded, d, kind, attachment if attachment.is_file() else None, key, extra,
                                     deadline, fixing=status == "needs_fix"))
    return out


def _receipts(loaded: Loaded, chosen: dict[str, str], status: dict[str, str],
              problems: dict[str, list[dict]]) -> Plan:
    """One receipt per department for the file whose answers count (its sha256 is the key: a
    new file is a new receipt), saying what checking it found."""
    from xlsx_tool.collect.corrections import CORRECTIONS_DIR, correction_name
    from xlsx_tool.collect.decide import received
    from xlsx_tool.collect.status_book import local_time
    from xlsx_tool.wareki import datetime_label

    survey = loaded.survey
    out = Plan(RECEIPT)
    with open_ledger(survey.path(S.LEDGER_FILE)) as ledger:
        for d in in_list_order(loaded.master.departments, loaded.departments_list):
            sha = chosen.get(d)
            sub = ledger.stored(sha) if sha else None
            if sha is None or sub is None:
                continue  # nothing received from it (or unreadable files only: whose they are is unknown)
            when = local_time(received(sub))
            found = problems.get(d, []) if status.get(d) == "needs_fix" else []
            copy = survey.path(S.OUTPUT_DIR, CORRECTIONS_DIR, correction_name(loaded, d))
            contact = loaded.departments_list.get(d) if loaded.departments_list else None
            # the correction request may have gone out already (its key: the copy's hash)
            requested = bool(found) and copy.is_file() and contact is not None and bool(contact.email) \
                and ledger.delivered(d, CORRECT, hashlib.sha256(copy.read_bytes()).hexdigest()[:16], contact.email)
            extra = {"受領ファイル": Path(sub.file).name, "受付日時": datetime_label(when) if when else "（不明）",
                     "確認結果": _checked(found, requested)}
            out.messages.append(_message(loaded, d, RECEIPT, None, sha, extra, survey.deadline))
    return out


def _checked(problems: list[dict], requested: bool) -> str:
    """What checking the file found, in brief: nothing, or the problems and where to fix them."""
    if not problems:
        return "確認の結果、内容に問題はありませんでした。"
    counts = P.summary([P.Problem(**p) for p in problems], limit=6)
    copy = ("修正箇所を示した調査票を、お送りした修正依頼のメールに添付しています。" if requested
            else "修正箇所を示した調査票を、修正依頼のメールで別途お送りします。")
    return (f"確認の結果、修正が必要な箇所が {len(problems)} 件ありました（{counts}）。\n"
            f"{_corrections(problems, limit=5, rest='修正依頼の調査票の「修正内容」欄をご覧ください')}\n"
            f"{copy}その調査票で修正のうえ、再提出をお願いします。")


def copy_deadline(data: bytes) -> str:
    """The resubmission deadline a correction copy carries (its document properties)."""
    import io
    import zipfile

    from defusedxml import ElementTree

    from xlsx_tool.forms.writer import DEADLINE_PROPERTY

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            root = ElementTree.fromstring(z.read("docProps/custom.xml"))
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return ""
    for prop in root:
        if prop.get("name") == DEADLINE_PROPERTY:
            return "".join(prop.itertext()).strip()
    return ""


def _corrections(problems: list[dict], limit: int = 15, rest: str = "添付の調査票の「修正内容」欄をご覧ください") -> str:
    lines = []
    for p in problems[:limit]:
        message, field = p.get("message", ""), p.get("field") or ""
        # the message names its field already (「評価」の「良い」は…): not 「評価：「評価」の…」
        named = not field or f"「{field}」" in message
        where = " ".join(v for v in (f"施策番号 {p['measure']}" if p.get("measure") else "",
                                     "" if named else field) if v)
        lines.append("・" + (f"{where}：" if where else "") + message)
    if len(problems) > limit:
        lines.append(f"（ほか {len(problems) - limit} 件。{rest}）")
    return "\n".join(lines)


def _unanswered(loaded: Loaded, department: str) -> str:
    return "、".join(f"No.{m.number} {m.name}" for m in loaded.measures_of(department))


def _situation(loaded: Loaded, department: str, status: str, problems: list[dict]) -> str:
    if status == "missing":
        return ("貴課からの調査票の提出をまだ確認できておりません。\n"
                f"対象の施策：{_unanswered(loaded, department)}\n調査票を改めて添付します。")
    return ("ご提出いただいた調査票に修正が必要な箇所があります。\n"
            f"{_corrections(problems)}\n修正箇所を示した調査票を添付します。")


def sender_name(loaded: Loaded) -> str:
    """Who the mail is from, as people read it: [mail] from_name, else the contact's section."""
    survey = loaded.survey
    return survey.mail.sender_name or survey.contact.split("（")[0].strip() or "調査担当"


def signature(loaded: Loaded) -> str:
    """[mail] signature, else a block built from the contact and the sender's address."""
    survey = loaded.survey
    if survey.mail.signature:
        return survey.mail.signature
    lines = [sender_name(loaded)]
    contact = survey.contact
    if "（" in contact and contact.endswith("）"):  # 「ICT推進課 ICT推進係（内線 2021）」
        lines.append(contact[contact.index("（") + 1:-1])
    elif contact and contact != lines[0]:
        lines.append(contact)
    if survey.mail.sender:
        lines.append(f"メール：{survey.mail.sender}")
    return "\n".join([RULE, *lines, RULE])


def _message(loaded: Loaded, department: str, kind: str, attachment: Path | None, key: str,
             extra: dict[str, str], deadline: str, fixing: bool = False) -> Message:
    survey = loaded.survey
    contact = loaded.departments_list.get(department) if loaded.departments_list else None
    subject_t, body_t = survey.mail.messages.get(kind) or DEFAULTS[kind]
    subject_t, body_t = subject_t or DEFAULTS[kind][0], body_t or DEFAULTS[kind][1]
    if not deadline:  # no date to name: the sentence goes on without one
        subject_t = subject_t.replace("、{期限}締切", "")
        body_t = body_t.replace("{期限}までに", "")
    sign = signature(loaded)
    if "{署名}" not in body_t:
        body_t = body_t.rstrip("\n") + "\n\n{署名}"
    values = _Fill({
        "所管課": department, "担当者": (contact.person if contact and contact.person else "ご担当者"),
        "年度": survey.year_label, "調査名": survey.title, "提出期限": survey.deadline,
        "再提出期限": survey.resubmit_deadline or survey.deadline, "期限": deadline, "問合せ先": survey.contact,
        "返送先": survey.return_to or survey.contact, "添付ファイル": attachment.name if attachment else "（なし）",
        "差出人": sender_name(loaded), "署名": sign,
        # the default reminder's own word (not a survey.toml placeholder): what is asked
        "依頼": "修正のうえ再提出" if fixing else "ご提出", **extra})
    subject = " ".join(subject_t.format_map(values).split())
    body = body_t.format_map(values).rstrip("\n") + "\n"
    return Message(department, kind, contact.email if contact else "", subject, body, attachment, key)


def build(loaded: Loaded, m: Message, when: dt.datetime | None = None) -> EmailMessage:
    """The message as sent or saved; a draft opens in Outlook ready to send (X-Unsent: 1)."""
    mail = loaded.survey.mail
    msg = EmailMessage(policy=KEEP_FOLDS)
    msg["Subject"] = m.subject
    if mail.sender:
        msg["From"] = Address(sender_name(loaded), addr_spec=envelope(mail.sender))
    msg["To"] = Address(m.department, addr_spec=envelope(m.to)) if m.to else ""
    if mail.reply_to:
        msg["Reply-To"] = Address(addr_spec=envelope(mail.reply_to))
    msg["Date"] = format_datetime((when or dt.datetime.now()).astimezone())
    domain = envelope(mail.sender).rsplit("@", 1)[-1] if "@" in mail.sender else "xlsx-tool.invalid"
    msg["Message-ID"] = make_msgid("xlsx-tool", domain)
    msg["X-Unsent"] = "1"
    msg["X-Mailer"] = "xlsx-tool"
    msg.set_content(m.body, cte="base64")
    if m.attachment is not None:
        msg.make_mixed()
        msg.attach(attachment_part(m.attachment.read_bytes(), m.attachment.name))
    return msg


# Headers given already folded (the attachment's) are written as given: Python folds this
# Content-Type wrongly once a parameter is added, and some releases (Windows CPython 3.12.9,
# not 3.12.1) refold even a header that was parsed within 78 characters a line.
KEEP_FOLDS = policy.default.clone(refold_source="none")


def attachment_part(data: bytes, name: str) -> EmailMessage:
    """A workbook attached under its Japanese name, in headers every mail program reads.

    The name goes RFC 2231-encoded into Content-Disposition (filename*, which Outlook reads)
    and into Content-Type (name*, for programs that look only there). The headers are given
    already folded (KEEP_FOLDS): Python's folding of a Content-Type whose type is this long,
    once a parameter is added, encodes the type itself (「application/=?utf-8?q?vnd=2E…?=」),
    which strict mail gateways strip or quarantine.
    """
    def param(key: str) -> list[str]:
        # every line within 78 characters, or the policy folds it again: 「 filename*0*=utf-8''…;」
        chunks = _percent_chunks(name, 78 - len(f" {key}*00*=utf-8'';"))
        return [f" {key}*{i}*={'utf-8' + chr(39) * 2 if i == 0 else ''}{chunk}{';' if i < len(chunks) - 1 else ''}"
                for i, chunk in enumerate(chunks)]

    head = ["Content-Type:", f" {XLSX[0]}/{XLSX[1]};", *param("name"), "Content-Transfer-Encoding: base64",
            "Content-Disposition: attachment;", *param("filename")]
    text = "\n".join(head) + "\n\n" + base64.encodebytes(data).decode("ascii")
    return email.message_from_string(text, policy=KEEP_FOLDS)


def _percent_chunks(text: str, size: int = 60) -> list[str]:
    """`text` percent-encoded as UTF-8 (RFC 2231), cut between escapes into header-sized pieces."""
    pieces = re.findall(r"%[0-9A-F]{2}|[^%]", quote(text.encode("utf-8"), safe=""))
    chunks = [""]
    for piece in pieces:
        if len(chunks[-1]) + len(piece) > size:
            chunks.append("")
        chunks[-1] += piece
    return chunks
