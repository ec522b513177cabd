"""`pipeline send-test SLUG --to ADDRESS`: the built message delivered to a real SMTP server
(aiosmtpd on 127.0.0.1) and read back with the email package; every failure one line, exit 1,
nothing delivered."""

from __future__ import annotations

import socket
from email import policy
from email.parser import BytesParser

import lxml.html
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import SITE_YAML, build, cli, make_project, post

ADDRESS = "1 Test Road, Avon, CT 06001"
UNSUBSCRIBE = "https://clinic.example/unsubscribe"
USER, PASSWORD = "news@clinic.example", "correct horse"


class Recorder:
    """An aiosmtpd handler keeping every envelope it accepts; `refuse_data`: answer DATA with 554."""

    def __init__(self, refuse_data: bool = False):
        self.envelopes, self.refuse_data = [], refuse_data

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return "554 5.6.0 Message rejected by policy"
        self.envelopes.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def authenticator(server, session, envelope, mechanism, data):
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=good, handled=False)   # handled=False: the server answers 535 itself


@pytest.fixture
def smtp_server():
    """Start an aiosmtpd server on a free port; returns (recorder, port)."""
    started = []

    def start(refuse_data: bool = False, **options):
        recorder, port = Recorder(refuse_data), free_port()
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return recorder, port

    yield start
    for controller in started:
        controller.stop()


def project_for(tmp_path, port: int, security: str = "none", username: str | None = None):
    smtp = f"  smtp:\n    host: 127.0.0.1\n    port: {port}\n    security: {security}\n" + \
        (f"    username: {username}\n" if username else "")
    project = make_project(tmp_path / "p", {
        "knee.md": post("Knee Basics", "2026-05-01", "Knees carry a lot.", tags="[knee]"),
    }, site=SITE_YAML + smtp)
    return project


def send(project, *args: str):
    return cli(project, "send-test", *args, "--now", "2026-11-24")


def one_line_failure(result, expected: str) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stderr.splitlines() == [expected]
    assert "Traceback" not in result.stdout + result.stderr and "Sent " not in result.stdout


def test_the_built_message_reaches_the_one_address_given(tmp_path, smtp_server):
    recorder, port = smtp_server()
    project = project_for(tmp_path, port)
    result = send(project, "knee-basics", "--to", "Pat Tester <pat@example.org>")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Sent output/newsletter/knee-basics/message.eml to pat@example.org via 127.0.0.1:{port} " \
                            "(none).\n"
    [envelope] = recorder.envelopes
    assert envelope.rcpt_tos == ["pat@example.org"] and envelope.mail_from == "news@clinic.example"
    received = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
    built = BytesParser(policy=policy.default).parsebytes(
        (project / "output/newsletter/knee-basics/message.eml").read_bytes())
    assert received.get_all("To") == ["pat@example.org"]
    for header in ("From", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
        assert received.get_all(header) == built.get_all(header), header
    text, html = (part.get_content() for part in received.iter_parts())
    assert [part.get_content() for part in built.iter_parts()] == [text, html]
    assert ADDRESS in " ".join(text.split()) and UNSUBSCRIBE in text
    doc = lxml.html.fromstring(html)
    assert ADDRESS in " ".join(doc.text_content().split())
    assert doc.xpath(f"//a[@href='{UNSUBSCRIBE}']/text()") == ["unsubscribe here"]


def test_it_logs_in_with_the_password_from_the_environment(tmp_path, smtp_server, monkeypatch):
    recorder, port = smtp_server(authenticator=authenticator, auth_require_tls=False,
                                 auth_exclude_mechanism=["LOGIN"])
    project = project_for(tmp_path, port, username=USER)
    monkeypatch.setenv("PIPELINE_SMTP_PASSWORD", PASSWORD)
    result = send(project, "knee-basics", "--to", "pat@example.org")
    assert result.exit_code == 0, result.stderr
    assert [e.rcpt_tos for e in recorder.envelopes] == [["pat@example.org"]]


def test_a_refused_login_is_one_line(tmp_path, smtp_server, monkeypatch):
    recorder, port = smtp_server(authenticator=authenticator, auth_require_tls=False,
                                 auth_exclude_mechanism=["LOGIN"])
    project = project_for(tmp_path, port, username=USER)
    monkeypatch.setenv("PIPELINE_SMTP_PASSWORD", "wrong")
    result = send(project, "knee-basics", "--to", "pat@example.org")
    one_line_failure(result, f"error: 127.0.0.1:{port} refused the login for '{USER}' (535 5.7.8 Authentication "
                             "credentials invalid); check newsletter.smtp.username and PIPELINE_SMTP_PASSWORD")
    assert recorder.envelopes == []


def test_a_username_without_the_password_variable_stops_before_connecting(tmp_path, monkeypatch):
    project = project_for(tmp_path, free_port(), username=USER)   # nothing listens there
    monkeypatch.delenv("PIPELINE_SMTP_PASSWORD", raising=False)
    result = send(project, "knee-basics", "--to", "pat@example.org")
    one_line_failure(result, "error: newsletter.smtp.username is set but the password is not: set the environment "
                             "variable PIPELINE_SMTP_PASSWORD (it is never read from a file)")


def test_an_unknown_slug_is_one_line_with_the_likely_one(tmp_path, smtp_server):
    recorder, port = smtp_server()
    result = send(project_for(tmp_path, port), "knee-basic", "--to", "pat@example.org")
    one_line_failure(result, "error: no article with the slug 'knee-basic' (output/newsletter/ has none); did you "
                             "mean 'knee-basics'?")
    result = send(project_for(tmp_path / "again", port), "../../content", "--to", "pat@example.org")
    assert result.exit_code == 1 and "no article with the slug '../../content'" in result.stderr
    assert recorder.envelopes == []


def test_a_refused_connection_is_one_line(tmp_path):
    port = free_port()   # closed again: connecting is refused
    result = send(project_for(tmp_path, port), "knee-basics", "--to", "pat@example.org")
    one_line_failure(result, f"error: cannot connect to 127.0.0.1:{port}: connection refused; check "
                             "newsletter.smtp.host and port in content/site.yaml")


def test_a_server_that_never_answers_times_out_in_one_line(tmp_path):
    with socket.socket() as silent:   # the kernel completes the connection; nobody ever answers it
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        result = send(project_for(tmp_path, port), "knee-basics", "--to", "pat@example.org", "--timeout", "0.3")
    one_line_failure(result, f"error: 127.0.0.1:{port} did not answer within 0.3 s; check newsletter.smtp.host, "
                             "port and security in content/site.yaml (a server expecting ssl waits silently for "
                             "starttls), or pass a longer --timeout")


def test_a_message_refused_at_data_is_not_delivered(tmp_path, smtp_server):
    recorder, port = smtp_server(refuse_data=True)
    result = send(project_for(tmp_path, port), "knee-basics", "--to", "pat@example.org")
    one_line_failure(result, f"error: 127.0.0.1:{port} refused the message (554 5.6.0 Message rejected by policy); "
                             "nothing was sent")
    assert recorder.envelopes == []


def test_starttls_against_a_server_without_it_is_one_line(tmp_path, smtp_server):
    recorder, port = smtp_server()
    result = send(project_for(tmp_path, port, security="starttls"), "knee-basics", "--to", "pat@example.org")
    one_line_failure(result, f"error: 127.0.0.1:{port} does not support this: STARTTLS extension not supported by "
                             "server.; check newsletter.smtp.security (and username: remove it if the server takes "
                             "no login)")
    assert recorder.envelopes == []


@pytest.mark.parametrize("to", ["pat@example.org, sam@example.org", "pat", "pat@example.org\nBcc: x@evil.example",
                                "pat@example.org; sam@example.org"])
def test_to_takes_exactly_one_address(tmp_path, to):
    result = send(project_for(tmp_path, free_port()), "knee-basics", "--to", to)
    assert result.exit_code == 2
    assert f"Invalid value for --to: expected one address like you@clinic.example, got {to!r}" in result.stderr


def test_without_smtp_settings_it_says_what_to_add(tmp_path):
    project = make_project(tmp_path / "p", {"knee.md": post("Knee Basics")})
    result = send(project, "knee-basics", "--to", "pat@example.org")
    one_line_failure(result, "content/site.yaml: error: newsletter.smtp is not set; add it under newsletter, like "
                             "`smtp: {host: smtp.example.com, port: 587, security: starttls, username: "
                             "news@clinic.example}`")


def test_a_password_in_site_yaml_is_refused(tmp_path):
    project = make_project(tmp_path / "p", {"knee.md": post("Knee Basics")},
                           site=SITE_YAML + "  smtp:\n    host: smtp.example.com\n    password: hunter2\n")
    result = build(project)
    assert result.exit_code == 1
    assert ("content/site.yaml:16:15: error: newsletter.smtp.password: a password is never kept in a file; remove "
            "this line and set the environment variable PIPELINE_SMTP_PASSWORD when you run `pipeline send-test`"
            ) in result.stderr


def test_ssl_against_a_plain_server_is_one_line(tmp_path, smtp_server):
    recorder, port = smtp_server()
    result = send(project_for(tmp_path, port, security="ssl"), "knee-basics", "--to", "pat@example.org")
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: TLS with 127.0.0.1:{port} failed (")
    assert result.stderr.endswith("); check newsletter.smtp.security: ssl (usually port 465) or starttls (usually "
                                  "port 587)\n")
    assert recorder.envelopes == []
