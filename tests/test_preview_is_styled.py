"""Previewing the site shows it as it will be published: every stylesheet, feed and link a page
names under the `base_url` path answers, from `pipeline serve` and from a static server rooted as
the README says (the built site placed at the base_url's path)."""

from __future__ import annotations

import functools
import http.server
import threading
import urllib.request
from urllib.parse import urljoin

import lxml.html

from conftest import build, make_project, post


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get_content_type(), response.read()


def assert_styled(home_url: str) -> None:
    status, kind, body = fetch(home_url)
    assert (status, kind) == (200, "text/html")
    doc = lxml.html.fromstring(body)
    sheets = doc.xpath("//link[@rel='stylesheet']/@href")
    assert sheets, "the home page links no stylesheet"
    for href in sheets + doc.xpath("//link[@rel='alternate']/@href"):
        status, kind, data = fetch(urljoin(home_url, href))
        assert status == 200 and data, href
    assert fetch(urljoin(home_url, sheets[0]))[1] == "text/css"
    article = doc.xpath("//main//a[contains(@href, 'knee-basics')]/@href")[0]
    assert fetch(urljoin(home_url, article))[0] == 200


def project_under_a_path(tmp_path):
    return make_project(tmp_path / "p", {"knee.md": post("Knee Basics", "2026-05-01", "Knees carry a lot.")})


def test_pipeline_serve_shows_the_site_under_its_base_path_styled(tmp_path):
    from pipeline.serve import PreviewServer

    server = PreviewServer(project_under_a_path(tmp_path), port=0)
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    try:
        server.rebuild()
        assert server.state.errors is None and server.state.crash is None
        thread.start()
        assert_styled(f"http://127.0.0.1:{server.port}/blog/")
    finally:
        server.httpd.shutdown() if thread.is_alive() else None
        server.httpd.server_close()


def test_a_static_server_rooted_above_the_base_path_shows_the_built_site_styled(tmp_path):
    project = project_under_a_path(tmp_path)
    assert build(project).exit_code == 0
    root = tmp_path / "preview"
    root.mkdir()
    (root / "blog").symlink_to(project / "output" / "site", target_is_directory=True)   # as the README says
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        assert_styled(f"http://127.0.0.1:{httpd.server_address[1]}/blog/")
    finally:
        httpd.shutdown()
        httpd.server_close()
