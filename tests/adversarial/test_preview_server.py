"""The preview server answers every request (400 for a malformed one), only to a Host of this
machine (421 otherwise: DNS rebinding), and keeps the Markdown time limit on its rebuild thread."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from conftest import make_project, post, serving

from pipeline.markdown import MarkdownRenderer, MarkupTooComplex


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    project = make_project(tmp_path_factory.mktemp("serve") / "p", {
        "knee.md": post("Knee Basics", "2026-05-01", "Knees carry a lot."),
        "draft.md": post("Private Draft", "2026-05-02", "Not yet public.", draft="true"),
    })
    with serving(project) as port:
        yield project, port


def request(port: int, path: str, host: str | None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def raw(port: int, data: bytes) -> bytes:
    """Send bytes as they are; everything the server answers before it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "localhost", "[::1]:{port}"])
def test_a_local_host_is_served(served, host):
    _, port = served
    status, body = request(port, "/blog/", host.format(port=port))
    assert status == 200 and b"Private Draft" in body


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:{port}", "localhost.attacker.example",
                                  "127.0.0.1.nip.io:{port}"])
@pytest.mark.parametrize("path", ["/blog/", "/_pipeline/source/content/posts/draft.md", "/_preview/private-draft/"])
def test_another_host_is_misdirected(served, host, path):
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: it gets no draft and no source."""
    _, port = served
    status, body = request(port, path, host.format(port=port))
    assert status == 421 and b"Private" not in body and b"Not yet public" not in body


def test_no_host_is_a_bad_request(served):
    _, port = served
    answer = raw(port, b"GET /blog/ HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 400")


@pytest.mark.parametrize("path", [b"/blog/a\x00b", b"/blog/a%00b", b"/_pipeline/source/content%00/x", b"/blog/%0d%0ax",
                                  b"/" + b"a" * 8000, b"/blog/" + b"%2e" * 3000])
def test_a_malformed_or_overlong_path_gets_a_400(served, path):
    _, port = served
    answer = raw(port, b"GET " + path + f" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer[:200]


def test_the_server_still_answers_after_hostile_requests(served):
    _, port = served
    for path in (b"/blog/a\x00b", b"/" + b"a" * 8000):
        raw(port, b"GET " + path + f" HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n".encode())
    assert request(port, "/blog/", f"localhost:{port}")[0] == 200


def test_the_markdown_time_limit_holds_on_a_thread_that_is_not_the_main_one():
    renderer = MarkdownRenderer(time_limit=0.5)
    outcome = {}

    def convert():
        started = time.monotonic()
        try:
            renderer.render("[x](" * 20000)
        except MarkupTooComplex as exc:
            outcome["error"] = str(exc)
        outcome["seconds"] = time.monotonic() - started
        outcome["after"] = renderer.render("Still *works*.").html   # no stray exception afterwards

    thread = threading.Thread(target=convert)
    thread.start()
    thread.join(timeout=60)
    assert "took longer than 0.5 s" in outcome["error"]
    assert outcome["seconds"] < 5
    assert outcome["after"] == "<p>Still <em>works</em>.</p>"


def test_a_rebuild_on_the_watcher_thread_stops_slow_markdown_at_the_time_limit(tmp_path, monkeypatch):
    from pipeline.serve import PreviewServer

    monkeypatch.setenv("PIPELINE_MARKDOWN_TIME_LIMIT", "1")   # (unbounded, that conversion takes minutes)
    project = make_project(tmp_path / "p", {"slow.md": post("Slow", body="[x](" * 20000)})
    server = PreviewServer(project, port=0)
    try:
        thread = threading.Thread(target=server.rebuild, name="watch")
        thread.start()
        thread.join(timeout=120)
        assert not thread.is_alive()
        assert server.state.crash is None
        messages = [f.format() for f in server.state.errors]
        assert any("content/posts/slow.md:5: error: cannot convert the article's Markdown: converting it took "
                   "longer than 1 s" in m for m in messages), messages
    finally:
        server.httpd.server_close()
