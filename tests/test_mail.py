"""xlsx-tool mail: drafts that parse and carry the right forms, and real delivery over SMTP.

A real SMTP server (aiosmtpd) listens on 127.0.0.1 for the delivery tests. The bundled
example is collected with two departments missing; `mail remind` must address exactly those
two, with their own forms attached, and a second `--send` must deliver nothing more.
"""

from __future__ import annotations

import email
import json
import shutil
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from xlsx_tool.cli import cli
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import load
from xlsx_tool.forms.layout import file_names

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd is a test extra (pip install -e '.[test]')")
from aiosmtpd.controller import Controller  # noqa: E402

# Built on a whole yearly cycle in a module fixture (seconds under mutmut); see pyproject.toml.
pytestmark = pytest.mark.cycle

runner = CliRunner()
MISSING = ("人事課", "税務課")


class Inbox:
    """An SMTP handler that keeps every message; it can refuse one address."""

    def __init__(self, refuse: str = ""):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    servers = []

    def start(refuse: str = "") -> tuple[Inbox, int]:
        import socket

        with socket.socket() as probe:  # a free port: aiosmtpd's start-up check connects to it
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        inbox = Inbox(refuse)
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return inbox, port
    yield start
    for c in servers:
        c.stop()


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """The bundled example, collected with 人事課 and 税務課 missing."""
    folder = tmp_path_factory.mktemp("mail") / "demo"
    assert runner.invoke(cli, ["demo", str(folder)]).exit_code == 0
    loaded, _ = load(folder)
    names = file_names(loaded.survey, loaded.master.departments)
    for d in MISSING:
        (folder / S.RETURNS_DIR / names[d]).unlink()
    # their files let go: as if they never came (a file that only left 2_回収 would still count)
    assert runner.invoke(cli, ["collect", str(folder), "--forget-missing"]).exit_code == 1
    return folder


@pytest.fixture
def survey(collected, tmp_path) -> Path:
    folder = tmp_path / "survey"
    shutil.copytree(collected, folder)
    return folder


def with_server(folder: Path, port: int, extra: str = "") -> None:
    """The example's [mail] table (from, reply_to) given the test server."""
    toml = folder / "survey.toml"
    text = toml.read_text(encoding="utf-8")
    assert "[mail]\n" in text
    toml.write_text(text.replace("[mail]\n", f'[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n{extra}'),
                    encoding="utf-8")


def drafts(folder: Path, kind: str) -> dict[str, email.message.EmailMessage]:
    out = {}
    for path in sorted((folder / "4_メール" / kind).glob("*.eml")):
        out[path.stem] = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    return out


def test_remind_drafts_for_the_two_missing_departments_with_their_forms(survey):
    res = runner.invoke(cli, ["mail", str(survey), "remind"])
    assert res.exit_code == 0, res.output
    assert "督促: 下書き 2 通" in res.output
    found = drafts(survey, "督促")
    assert sorted(found) == sorted(MISSING)
    loaded, _ = load(survey)
    names = file_names(loaded.survey, loaded.master.departments)
    for department, msg in found.items():
        assert msg["X-Unsent"] == "1"
        assert department in str(msg["Subject"]) and "提出" in str(msg["Subject"])
        contact = loaded.departments_list.get(department)
        assert msg["To"].addresses[0].addr_spec == contact.email
        body = msg.get_body(("plain",)).get_content()
        assert loaded.survey.deadline in body and "令和" in body and loaded.survey.contact in body
        assert "提出をまだ確認できておりません" in body
        (attachment,) = list(msg.iter_attachments())
        assert attachment.get_filename() == names[department]  # readable name (RFC 2231)
        raw = (survey / "4_メール" / "督促" / f"{department}.eml").read_bytes()
        assert b"filename*0*=utf-8''" in raw and b"name*0*=utf-8''" in raw  # RFC 2231, both places
        assert b"X-Unsent: 1" in raw
        # the attachment is collected back as the right department's form
        (survey / S.RETURNS_DIR / f"メール添付_{department}.xlsx").write_bytes(attachment.get_content())
    data = json.loads(runner.invoke(cli, ["collect", str(survey), "--json"]).stdout)
    for department in MISSING:
        status = next(d for d in data["departments"] if d["department"] == department)
        assert status["file"] == f"2_回収/メール添付_{department}.xlsx"  # identified, though still empty


def test_distribute_and_correct_drafts(survey):
    res = runner.invoke(cli, ["mail", str(survey), "distribute", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert len(data["messages"]) == 9 and all(m["outcome"] == "draft" for m in data["messages"])
    assert all(m["attachment"].startswith("令和3年度_") for m in data["messages"])
    # no department needs a fix: correct has nothing to say
    res = runner.invoke(cli, ["mail", str(survey), "correct"])
    assert res.exit_code == 0 and "修正依頼: 下書き 0 通" in res.output


def test_a_department_without_an_address_is_listed(survey):
    listing = survey / "所管課一覧.csv"
    text = listing.read_text(encoding="utf-8-sig").replace("jinji@example.lg.jp", "")
    listing.write_text(text, encoding="utf-8-sig")
    res = runner.invoke(cli, ["mail", str(survey), "remind"])
    assert res.exit_code == 1
    assert "[宛先なし] 人事課" in res.output and "宛先なし 1 課" in res.output


def test_send_delivers_exactly_the_two_then_nothing_more(survey, smtp):
    inbox, port = smtp()
    with_server(survey, port)
    first = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert first.exit_code == 0, first.output
    assert "送信 2 通" in first.output
    assert sorted(to for _f, tos in inbox.envelopes for to in tos) == ["jinji@example.lg.jp", "zeimu@example.lg.jp"]
    assert all(m["X-Unsent"] is None for m in inbox.messages)  # delivered, not drafts
    assert all(m["From"] == "ict-suishin@example.lg.jp" for m in inbox.messages)
    second = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert second.exit_code == 0 and "送信 0 通" in second.output and "送信済みのため省略 2 通" in second.output
    assert len(inbox.messages) == 2
    dry = runner.invoke(cli, ["mail", str(survey), "distribute", "--send", "--dry-run"])
    assert "送信予定 9 通" in dry.output and len(inbox.messages) == 2


def test_one_refused_recipient_does_not_stop_the_others(survey, smtp):
    inbox, port = smtp(refuse="jinji@example.lg.jp")
    with_server(survey, port)
    res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert res.exit_code == 1
    assert "[失敗] 人事課" in res.output and "[送信] 税務課" in res.output
    assert [tos for _f, tos in inbox.envelopes] == [["zeimu@example.lg.jp"]]
    # the next run retries only what did not go
    inbox.refuse = ""
    again = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert again.exit_code == 0 and "送信 1 通" in again.output
    assert [tos for _f, tos in inbox.envelopes][-1] == ["jinji@example.lg.jp"]


def test_a_new_collect_makes_a_new_reminder(survey, smtp):
    inbox, port = smtp()
    with_server(survey, port)
    assert runner.invoke(cli, ["mail", str(survey), "remind", "--send"]).exit_code == 0
    runner.invoke(cli, ["collect", str(survey)])  # a later collect, still missing
    res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert "送信 2 通" in res.output and len(inbox.messages) == 4


def test_no_server_is_one_japanese_sentence(survey):
    with_server(survey, 1)  # nothing listens on port 1
    res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert res.exit_code == 2 and "メールサーバー 127.0.0.1:1 に接続できません" in res.output


def test_password_only_from_the_environment(survey, smtp, monkeypatch):
    _inbox, port = smtp()
    with_server(survey, port, 'username = "ict"\n')
    monkeypatch.delenv("XLSX_TOOL_SMTP_PASSWORD", raising=False)
    res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert res.exit_code == 2 and "XLSX_TOOL_SMTP_PASSWORD" in res.output


def test_templates_are_editable_and_checked(survey):
    toml = survey / "survey.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[mail.remind]\nsubject = "【至急】{所管課}様 {調査名}"\n'
                    'body = "{担当者}様\\n{状況}\\n期限：{提出期限}"\n', encoding="utf-8")
    assert runner.invoke(cli, ["check", str(survey)]).exit_code == 0
    runner.invoke(cli, ["mail", str(survey), "remind"])
    msg = drafts(survey, "督促")["人事課"]
    assert str(msg["Subject"]) == "【至急】人事課様 ICT推進・活用計画2025 実績調査"
    assert msg.get_body(("plain",)).get_content().startswith("鈴木 花子様")
