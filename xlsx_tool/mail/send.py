"""Mail out: drafts Outlook opens ready to send, or delivery through the office's SMTP server.

Every delivery is recorded in the ledger (department, kind, what made it new, time,
Message-ID), so a re-run never sends the same message twice; a new form version, a new
correction copy, a reminder after a new collect or a receipt for a new file counts as new. One recipient refused
does not stop the others.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xlsx_tool import problems as P
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded
from xlsx_tool.define.schema import envelope
from xlsx_tool.errors import ToolError
from xlsx_tool.ledger import open_ledger
from xlsx_tool.mail.compose import FOLDERS, LABELS, MAIL_DIR, RECEIPT, Message, Plan, build, plan
from xlsx_tool.textnorm import safe_file_name
from xlsx_tool.xlsxout import atomic_write

PASSWORD_ENV = "XLSX_TOOL_SMTP_PASSWORD"


@dataclass
class MailResult:
    kind: str
    send: bool
    dry_run: bool
    messages: list[Message] = field(default_factory=list)
    folder: Path | None = None

    def count(self, outcome: str) -> int:
        return sum(m.outcome == outcome for m in self.messages)

    def summary(self) -> str:
        label = LABELS[self.kind]
        parts = []
        if self.dry_run:
            parts.append(f"送信予定 {self.count('would-send')} 通")
        elif self.send:
            parts.append(f"送信 {self.count('sent')} 通")
            parts.append(f"失敗 {self.count('failed')} 通")
        else:
            parts.append(f"下書き {self.count('draft')} 通（{self.folder}）")
        parts.append(f"送信済みのため省略 {self.count('already-sent')} 通")
        parts.append(f"宛先なし {self.count('no-address')} 課")
        return f"{label}: " + "、".join(parts)

    @property
    def failed(self) -> bool:
        return any(m.outcome in ("failed", "no-address") for m in self.messages)

    def as_json(self) -> dict:
        return {"kind": self.kind, "send": self.send, "dry_run": self.dry_run,
                "messages": [m.as_json() for m in self.messages]}


def mail(loaded: Loaded, kind: str, send: bool = False, dry_run: bool = False,
         progress: Callable[[Message], None] | None = None) -> MailResult:
    survey = loaded.survey
    the_plan: Plan = plan(loaded, kind)
    result = MailResult(kind, send, dry_run, the_plan.messages, survey.path(MAIL_DIR, FOLDERS[kind]))
    with open_ledger(survey.path(S.LEDGER_FILE)) as ledger:
        for m in result.messages:
            if not m.to:
                m.outcome, m.detail = "no-address", "所管課一覧にメールアドレスがありません"
            # a receipt is owed once per file: drafts too leave out one already sent (--send)
            elif (send or kind == RECEIPT) and ledger.delivered(m.department, kind, m.key, m.to):
                m.outcome, m.detail = "already-sent", "同じ内容を送信済みです"
        todo = [m for m in result.messages if not m.outcome]
        if dry_run:
            for m in todo:
                m.outcome = "would-send" if send else "draft"
            return result
        if not send:
            for m in todo:
                m.message = build(loaded, m)
                m.path = result.folder / safe_file_name(m.department, ".eml")  # type: ignore[operator]
                atomic_write(m.path, m.message.as_bytes())
                m.outcome = "draft"
            return result
        if todo:
            _deliver(loaded, todo, ledger, progress)
    return result


def _say(code: str, **kw: str) -> str:
    return P.make(code, **kw).message


def _connect(loaded: Loaded) -> smtplib.SMTP:
    """A connection to the office's mail server, logged in; what stops it is one sentence."""
    settings = loaded.survey.mail
    if not settings.smtp_host:
        raise ToolError(P.sentence("mail-no-host"))
    if not settings.sender:
        raise ToolError(P.sentence("mail-no-sender"))
    port = settings.smtp_port or (465 if settings.ssl else 587 if settings.starttls else 25)
    where = f"{settings.smtp_host}:{port}"
    context = ssl.create_default_context()
    server: smtplib.SMTP | None = None
    try:
        if settings.ssl:
            server = smtplib.SMTP_SSL(settings.smtp_host, port, timeout=settings.timeout, context=context)
        else:
            server = smtplib.SMTP(settings.smtp_host, port, timeout=settings.timeout)
            if settings.starttls:
                server.starttls(context=context)
        if settings.username:
            password = os.environ.get(PASSWORD_ENV)
            if password is None:
                raise ToolError(P.sentence("mail-no-password", variable=PASSWORD_ENV))
            server.login(settings.username, password)
    except ToolError:
        _close(server)
        raise
    except smtplib.SMTPAuthenticationError as exc:
        _close(server)
        raise ToolError(_say("smtp-auth-failed", reply=str(exc.smtp_code))) from exc
    except smtplib.SMTPNotSupportedError as exc:
        _close(server)
        if settings.username and server is not None and server.does_esmtp and not server.has_extn("auth"):
            raise ToolError(_say("smtp-no-auth", value=where)) from exc
        raise ToolError(_say("smtp-tls", value=where, detail="サーバーが STARTTLS に対応していません")) from exc
    except ssl.SSLCertVerificationError as exc:
        _close(server)
        raise ToolError(_say("smtp-tls", value=where, detail="サーバーの証明書を確認できません")) from exc
    except ssl.SSLError as exc:
        _close(server)
        raise ToolError(_say("smtp-tls", value=where, detail="暗号化の手順が合いません")) from exc
    except smtplib.SMTPConnectError as exc:  # the server answered the connection with a refusal
        _close(server)
        code = "smtp-closing" if exc.smtp_code == 421 else "smtp-other"
        raise ToolError(_say(code, reply=str(exc.smtp_code))) from exc
    except (OSError, smtplib.SMTPException) as exc:
        _close(server)
        raise ToolError(_say("smtp-connect", value=where)) from exc
    return server


def _close(server: smtplib.SMTP | None) -> None:
    if server is not None:
        try:
            server.close()
        except OSError:
            pass


def reply_code(exc: smtplib.SMTPException) -> int:
    """The reply code a refusal came with (0: none, the connection went)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return next(iter(exc.recipients.values()), (0, b""))[0]
    return exc.smtp_code if isinstance(exc, smtplib.SMTPResponseException) else 0


def refusal(exc: smtplib.SMTPException, to: str, sender: str) -> str:
    """What a refused message means, by the reply code the server gave, and what to do."""
    code = reply_code(exc)
    if not code:
        return _say("smtp-disconnected")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        who, kind = to, "smtp-recipient-refused" if code >= 500 else "smtp-recipient-later"
    elif isinstance(exc, smtplib.SMTPSenderRefused):
        who, kind = sender, "smtp-sender-refused" if code >= 500 else "smtp-other"
    else:
        who, kind = to, "smtp-data-refused" if code >= 500 else "smtp-other"
    kind = {421: "smtp-closing", 552: "smtp-too-large", 530: "smtp-auth-required",
            535: "smtp-auth-failed"}.get(code, kind)
    return _say(kind, value=who, reply=str(code))


def _deliver(loaded: Loaded, todo: list[Message], ledger, progress: Callable[[Message], None] | None) -> None:
    sender = envelope(loaded.survey.mail.sender)
    server = _connect(loaded)
    try:
        for i, m in enumerate(todo):
            m.message = build(loaded, m)
            del m.message["X-Unsent"]  # a delivered message is not a draft
            try:
                # the envelope in ASCII: an IDN domain as punycode (the list was checked by `check`)
                server.send_message(m.message, from_addr=sender, to_addrs=[envelope(m.to)])
            except smtplib.SMTPServerDisconnected:
                m.outcome, m.detail = "failed", _say("smtp-disconnected")
                _close(server)
                server = _connect(loaded)
            except smtplib.SMTPException as exc:  # smtplib has reset the transaction (or closed, on 421)
                m.outcome, m.detail = "failed", refusal(exc, m.to, sender)
                if reply_code(exc) == 421:  # the server is closing: the rest waits for the next run
                    for rest in todo[i + 1:]:
                        rest.outcome, rest.detail = "failed", _say("smtp-not-sent")
                    break
            except (TimeoutError, OSError):
                m.outcome, m.detail = "failed", _say("smtp-disconnected")
                _close(server)
                server = _connect(loaded)
            else:
                m.outcome = "sent"
                ledger.record_delivery(m.department, m.kind, m.key, m.to, m.message["Message-ID"])
            if progress:
                progress(m)
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()
