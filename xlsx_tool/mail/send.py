"""Mail out: drafts Outlook opens ready to send, or delivery through the office's SMTP server.

Every delivery is recorded in the ledger (department, kind, what made it new, time,
Message-ID), so a re-run never sends the same message twice; a new form version, a new
correction copy or a reminder after a new collect counts as new. One recipient refused
does not stop the others.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded
from xlsx_tool.errors import ToolError
from xlsx_tool.ledger import open_ledger
from xlsx_tool.mail.compose import FOLDERS, LABELS, MAIL_DIR, Message, Plan, build, plan
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
            elif send and ledger.delivered(m.department, kind, m.key):
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


def _connect(loaded: Loaded) -> smtplib.SMTP:
    settings = loaded.survey.mail
    if not settings.smtp_host:
        raise ToolError("survey.toml の [mail] に smtp_host（送信に使うメールサーバー）がありません。"
                        "下書き（--send なし）を作るか、smtp_host と smtp_port を設定してください。")
    if not settings.sender:
        raise ToolError("survey.toml の [mail] に from（差出人アドレス）がありません。設定してから送信してください。")
    port = settings.smtp_port or (465 if settings.ssl else 587 if settings.starttls else 25)
    context = ssl.create_default_context()
    try:
        if settings.ssl:
            server: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, port, timeout=settings.timeout, context=context)
        else:
            server = smtplib.SMTP(settings.smtp_host, port, timeout=settings.timeout)
            if settings.starttls:
                server.starttls(context=context)
        if settings.username:
            password = os.environ.get(PASSWORD_ENV)
            if password is None:
                server.close()
                raise ToolError(f"メールサーバーのパスワードを環境変数 {PASSWORD_ENV} に設定してください"
                                "（パスワードはファイルに書きません）。")
            server.login(settings.username, password)
    except smtplib.SMTPAuthenticationError as exc:
        raise ToolError("メールサーバーにログインできません。username と環境変数 "
                        f"{PASSWORD_ENV} のパスワードを確認してください。") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise ToolError(f"メールサーバー {settings.smtp_host}:{port} に接続できません。サーバー名・ポート・"
                        "ネットワークを確認してください（下書きは --send なしで作れます）。") from exc
    return server


def _deliver(loaded: Loaded, todo: list[Message], ledger, progress: Callable[[Message], None] | None) -> None:
    server = _connect(loaded)
    try:
        for m in todo:
            m.message = build(loaded, m)
            del m.message["X-Unsent"]  # a delivered message is not a draft
            try:
                refused = server.send_message(m.message)
            except smtplib.SMTPRecipientsRefused:
                m.outcome, m.detail = "failed", f"メールサーバーが宛先 {m.to} を受け付けませんでした"
            except smtplib.SMTPDataError as exc:
                m.outcome, m.detail = "failed", f"メールサーバーが本文を受け付けませんでした（{exc.smtp_code}）"
            except (TimeoutError, smtplib.SMTPServerDisconnected, OSError):
                m.outcome, m.detail = "failed", "メールサーバーとの接続が切れました"
                try:
                    server.close()
                finally:
                    server = _connect(loaded)
            else:
                if refused:
                    m.outcome, m.detail = "failed", f"メールサーバーが宛先 {m.to} を受け付けませんでした"
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
