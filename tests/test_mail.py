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
# derived from the example's contact 「ICT推進課 ICT推進係（内線 2021）」 and [mail] from
SIGNATURE = ("――――――――――――――――――――――――\nICT推進課 ICT推進係\n内線 2021\n"
             "メール：ict-suishin@example.lg.jp\n――――――――――――――――――――――――")


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
        assert loaded.survey.deadline in body and "令和" in body
        assert body.rstrip().endswith(SIGNATURE)  # a signature block from the contact and the sender
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
    assert all(m["From"].addresses[0].addr_spec == "ict-suishin@example.lg.jp" for m in inbox.messages)
    assert all(m["From"].addresses[0].display_name == "ICT推進課 ICT推進係" for m in inbox.messages)
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


# --- every draft as a mail program reads it ------------------------------------------------

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def fixing(collected, tmp_path_factory) -> Path:
    """The example collected with 人事課 and 税務課 missing and 総務課 要修正, a resubmission
    deadline given to collect, and a department with a long Japanese name (a long file name)."""
    import openpyxl

    folder = tmp_path_factory.mktemp("fixing") / "survey"
    shutil.copytree(collected, folder)
    loaded, _ = load(folder)
    form = folder / S.RETURNS_DIR / file_names(loaded.survey, loaded.master.departments)["総務課"]
    wb = openpyxl.load_workbook(form)
    wb["調査票"]["E6"] = "良い"
    wb.save(form)
    res = runner.invoke(cli, ["collect", str(folder), "--deadline", "令和4年5月27日（金）"])
    assert res.exit_code == 1, res.output
    return folder


def test_every_draft_parses_to_its_workbook_type_and_name(fixing):
    """The attachment's Content-Type once came out as 「application/=?utf-8?q?vnd=2E…sp?= …」:
    every draft of every kind is parsed here as a mail program would, header by header."""
    for kind, folder in (("distribute", "配布"), ("remind", "督促"), ("correct", "修正依頼")):
        assert runner.invoke(cli, ["mail", str(fixing), kind]).exit_code == 0
        found = drafts(fixing, folder)
        assert found, kind
        for department, msg in found.items():
            (part,) = list(msg.iter_attachments())
            assert part.get_content_type() == XLSX_TYPE, (kind, department, part["Content-Type"])
            assert part.get_param("name") == part.get_filename()  # RFC 2231 in both headers
            assert part.get_filename().endswith(f"_{department}.xlsx")
            assert part.get_content()[:2] == b"PK"  # the workbook itself
            raw = (fixing / "4_メール" / folder / f"{department}.eml").read_bytes()
            # folded as RFC 5322 asks (78); only the type may stand whole on its line (Windows
            # CPython 3.12.9 unfolds it: 80 characters, far within the 998 that must hold)
            long = [line for line in raw.split(b"\n") if len(line) > 78]
            assert all(line.startswith(b"Content-Type: " + XLSX_TYPE.encode()) for line in long), long
            assert b"=?utf-8?q?vnd" not in raw


def test_one_deadline_per_kind_of_mail(fixing):
    """A reminder to a department 要修正 attaches the correction copy: it gives the copy's
    resubmission deadline, as the correction request does, never the first deadline."""
    resubmit, first = "令和4年5月27日（金）", "令和4年5月13日（金）"
    for kind in ("remind", "correct"):
        runner.invoke(cli, ["mail", str(fixing), kind])
    remind, correct = drafts(fixing, "督促"), drafts(fixing, "修正依頼")
    for msg in (remind["総務課"], correct["総務課"]):
        body = msg.get_body(("plain",)).get_content()
        assert resubmit in body and first not in body
        assert f"{resubmit}締切" in str(msg["Subject"])
    assert "修正のうえ再提出をお願いします" in remind["総務課"].get_body(("plain",)).get_content()
    missing = remind["人事課"].get_body(("plain",)).get_content()
    assert first in missing and resubmit not in missing and "ご提出をお願いします" in missing
    # the subject names the year and the deadline
    assert str(remind["人事課"]["Subject"]) == ("【ご確認】令和3年度 ICT推進・活用計画2025 実績調査の提出について"
                                               f"（人事課、{first}締切）")


def test_display_name_and_signature_from_the_mail_settings(survey):
    toml = survey / "survey.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        "[mail]\n", '[mail]\nfrom_name = "板橋区 ICT推進課"\nsignature = """\n板橋区 総務部 ICT推進課\n'
        '電話 03-0000-0000（内線 2021）"""\n'), encoding="utf-8")
    assert runner.invoke(cli, ["check", str(survey)]).exit_code == 0
    runner.invoke(cli, ["mail", str(survey), "remind"])
    msg = drafts(survey, "督促")["人事課"]
    assert msg["From"].addresses[0].display_name == "板橋区 ICT推進課"
    body = msg.get_body(("plain",)).get_content()
    assert "お疲れ様です。板橋区 ICT推進課です。" in body
    assert body.rstrip().endswith("板橋区 総務部 ICT推進課\n電話 03-0000-0000（内線 2021）")
    # a display name is a header: a line break in it is refused by check
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'from_name = "板橋区 ICT推進課"', 'from_name = "板橋区\\nICT推進課"'), encoding="utf-8")
    res = runner.invoke(cli, ["check", str(survey)])
    assert res.exit_code == 1 and "mail.from_name" in res.output and "1行で" in res.output


# --- addresses as the SMTP envelope needs them -----------------------------------------------

def _set_address(folder: Path, department: str, address: str) -> None:
    listing = folder / "所管課一覧.csv"
    rows = listing.read_text(encoding="utf-8-sig").splitlines()
    rows = [",".join([*r.split(",")[:3], address]) if r.startswith(department + ",") else r for r in rows]
    listing.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")


@pytest.mark.parametrize(("address", "reason"), [
    ("じんじ@example.lg.jp", "「@」より前（じんじ）に日本語などの全角文字は使えません"),
    ("ｊｉｎｊｉ@example.lg.jp", "全角の文字が含まれています。半角で「jinji@example.lg.jp」としてください"),
    ("jinji\u200b@example.lg.jp", "6 文字目に見えない文字（U+200B"),
])
def test_check_refuses_an_address_no_mail_server_takes(survey, address, reason):
    """These passed check and stopped `mail --send` with 「想定外の問題」."""
    _set_address(survey, "人事課", address)
    res = runner.invoke(cli, ["check", str(survey)])
    assert res.exit_code == 1
    line = next(x for x in res.output.splitlines() if "所管課一覧.csv" in x and "3行目" in x)
    assert "列「メール」" in line and reason in line, line


def test_a_japanese_domain_goes_out_as_punycode(survey, smtp):
    inbox, port = smtp()
    with_server(survey, port)
    _set_address(survey, "人事課", "jinji@例え.jp")
    assert runner.invoke(cli, ["check", str(survey)]).exit_code == 0
    res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert res.exit_code == 0, res.output
    assert ["jinji@xn--r8jz45g.jp"] in [tos for _f, tos in inbox.envelopes]
    (msg,) = [m for m in inbox.messages if "人事課" in str(m["To"])]
    assert msg["To"].addresses[0].addr_spec == "jinji@xn--r8jz45g.jp"


def test_a_corrected_address_gets_the_mail(survey, smtp):
    """A delivery is keyed by its recipient: the corrected address never got the mail, so it
    gets it now (it was shown as 「[送信済み] 人事課 <corrected address>」)."""
    inbox, port = smtp()
    with_server(survey, port)
    _set_address(survey, "人事課", "jinj@example.lg.jp")  # mistyped
    assert runner.invoke(cli, ["mail", str(survey), "remind", "--send"]).exit_code == 0
    _set_address(survey, "人事課", "jinji@example.lg.jp")
    res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert "[送信] 人事課 <jinji@example.lg.jp>" in res.output
    assert "[送信済み] 税務課 <zeimu@example.lg.jp>" in res.output
    assert [tos for _f, tos in inbox.envelopes][-1] == ["jinji@example.lg.jp"]


# --- every refusal named by its reply code, with what to do ------------------------------------

class Refusing(Inbox):
    """Refuses at one stage of the SMTP conversation with one reply."""

    def __init__(self, stage: str, reply: str):
        super().__init__()
        self.stage, self.reply = stage, reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.stage == "MAIL":
            return self.reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.stage == "RCPT" and address == "jinji@example.lg.jp":
            return self.reply
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        if self.stage == "DATA" and "jinji@example.lg.jp" in envelope.rcpt_tos:
            return self.reply
        return await super().handle_DATA(server, session, envelope)


def _serve(handler, **options):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


@pytest.mark.parametrize(("stage", "reply", "said"), [
    ("RCPT", "550 5.1.1 User unknown", "宛先 jinji@example.lg.jp を受け付けませんでした（応答 550）。所管課一覧のメールアドレス"),
    ("RCPT", "452 4.2.2 Mailbox full", "一時的に受け付けませんでした（応答 452）。しばらくしてから再実行"),
    ("DATA", "552 5.3.4 Message size exceeds fixed limit", "メールが大きすぎる"),
    ("DATA", "554 5.7.1 Transaction failed", "このメールを受け付けませんでした（応答 554）。迷惑メール判定など"),
    ("MAIL", "530 5.7.0 Authentication required", "ログインを求めています（応答 530）。survey.toml の [mail] に username"),
])
def test_a_refused_message_is_named_by_its_reply(survey, stage, reply, said):
    handler = Refusing(stage, reply)
    controller, port = _serve(handler)
    try:
        with_server(survey, port)
        res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    finally:
        controller.stop()
    assert res.exit_code == 1
    failed = [x for x in res.output.splitlines() if x.startswith("[失敗]")]
    assert failed and all(said in x for x in failed), res.output
    assert "人事課" in failed[0]
    if stage != "MAIL":  # refused for one department: the other one went
        assert "[送信] 税務課" in res.output


def test_a_closing_server_stops_the_run_and_the_rest_waits(survey):
    handler = Refusing("RCPT", "421 4.3.2 Service shutting down")
    controller, port = _serve(handler)
    try:
        with_server(survey, port)
        res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
        assert res.exit_code == 1
        assert "[失敗] 人事課" in res.output and "応答 421" in res.output and "しばらくしてから再実行" in res.output
        assert "[失敗] 税務課" in res.output and "送信していません。再実行すると送信します" in res.output
        assert handler.envelopes == []
        handler.stage = ""  # back in service: the next run sends both
        again = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
        assert again.exit_code == 0 and "送信 2 通" in again.output
    finally:
        controller.stop()


def test_a_refused_login_is_one_sentence(survey, monkeypatch):
    from aiosmtpd.smtp import AuthResult

    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    controller, port = _serve(Inbox(), authenticator=refuse, auth_require_tls=False)
    try:
        with_server(survey, port, 'username = "ict"\n')
        monkeypatch.setenv("XLSX_TOOL_SMTP_PASSWORD", "wrong")
        res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    finally:
        controller.stop()
    assert res.exit_code == 2
    assert "ログインできません（応答 535）" in res.output and "XLSX_TOOL_SMTP_PASSWORD" in res.output


@pytest.mark.parametrize(("setting", "said"), [
    ("starttls = true\n", "暗号化（TLS）を始められません（サーバーが STARTTLS に対応していません）"),
    ("ssl = true\n", "暗号化（TLS）を始められません（暗号化の手順が合いません）"),
])
def test_a_tls_failure_is_one_sentence(survey, smtp, setting, said):
    _inbox, port = smtp()  # a server without TLS
    with_server(survey, port, setting)
    res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert res.exit_code == 2 and said in res.output and "starttls・ssl とポート" in res.output, res.output


def test_a_server_without_login_for_a_username_is_one_sentence(survey, smtp, monkeypatch):
    _inbox, port = smtp()  # offers no AUTH on a plain connection
    with_server(survey, port, 'username = "ict"\n')
    monkeypatch.setenv("XLSX_TOOL_SMTP_PASSWORD", "secret")
    res = runner.invoke(cli, ["mail", str(survey), "remind", "--send"])
    assert res.exit_code == 2 and "ログイン（AUTH）を受け付けません" in res.output and "starttls = true" in res.output
