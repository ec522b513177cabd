"""The authoring loop: `serve` answers, rebuilds on edits, shows errors in the browser and recovers;
the preview page shows every channel; `new` scaffolds an article that builds; progress and quiet."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest

from browser import CHROMIUM, FLAGS
from conftest import build, cli, make_project, post, serving
from pipeline.serve import LONG_POLL


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2 * LONG_POLL) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def version(base: str, after: int | None = None) -> int:
    """The number of builds the server has made; `after`: once it has made one after that."""
    return json.loads(get(base + "/_pipeline/version" + (f"?after={after}" if after is not None else ""))[1])["version"]


def wait_for(base: str, path: str, predicate) -> str:
    """The page at `path` once it matches, as the server rebuilds after each change it sees (an
    edit may take two builds: one of a file half written, then one of the whole). Fails when
    no build comes in the server's LONG_POLL seconds."""
    seen = version(base)
    for _ in range(10):
        _, body = get(base + path)
        if predicate(body):
            return body
        after, seen = seen, version(base, after=seen)
        if seen == after:
            break
    raise AssertionError(f"{path} never matched; last body:\n{body[:2000]}")


@pytest.fixture
def server(tmp_path):
    project = make_project(tmp_path / "p", {
        "knee.md": post("Knee Basics", "2026-05-01", "Knees carry a lot.", tags="[knee, dry needling]"),
        "draft.md": post("Unfinished Draft", "2026-05-02", "Work in progress.", draft="true"),
    })
    with serving(project) as port:
        yield project, f"http://127.0.0.1:{port}"


def test_the_server_answers_with_the_site_drafts_included_and_live_reload(server):
    project, base = server
    status, home = get(base + "/blog/")
    assert status == 200 and "Knee Basics" in home and "Unfinished Draft" in home
    assert "/_pipeline/version" in home
    status, _ = get(base + "/")
    assert status == 200
    version = json.loads(get(base + "/_pipeline/version")[1])["version"]
    assert version >= 1
    assert not (project / "output").exists(), "serve must never write drafts into output/"


def test_an_edited_article_appears_within_seconds(server):
    project, base = server
    (project / "content/posts/knee.md").write_text(post("Knee Basics, Revised", "2026-05-01", "New words here."))
    body = wait_for(base, "/blog/knee-basics-revised/", lambda b: "New words here." in b)
    assert "Knee Basics, Revised" in body


def test_the_server_rebuilds_only_what_an_edit_changed_and_holds_no_page_in_memory(tmp_path):
    """The preview builds into .pipeline/serve/ as `pipeline build` writes output/: after an
    edit, the other articles are taken from the records and nothing rendered is held."""
    from pipeline.serve import PreviewServer

    posts = {f"p{i:02}.md": post(f"Article {i}", f"2026-03-{1 + i:02}", f"Body {i}.") for i in range(20)}
    project = make_project(tmp_path / "p", posts)
    server = PreviewServer(project, port=0)
    try:
        server.rebuild()
        assert server.state.errors is None and server.state.crash is None
        assert len(server.state.result.work.articles_rendered) == 20
        (project / "content/posts/p10.md").write_text(post("Article 10", "2026-03-11", "Edited."))
        server.rebuild()
        assert sorted(server.state.result.work.articles_rendered) == [   # it and its two neighbours
            "content/posts/p09.md", "content/posts/p10.md", "content/posts/p11.md"]
        assert all(artifact.content == b"" for artifact in server.state.result.artifacts)
        assert "Edited." in (project / ".pipeline/serve/site/article-10/index.html").read_text()
        assert not (project / "output").exists()
    finally:
        server.httpd.server_close()


def test_an_invalid_edit_shows_the_error_page_and_a_fix_recovers(server):
    project, base = server
    source = project / "content/posts/knee.md"
    good = source.read_text()
    source.write_text(good.replace("date: 2026-05-01", "date: 2026-02-30"))
    body = wait_for(base, "/blog/", lambda b: "Build failed" in b)
    assert "content/posts/knee.md:3:7: error: date: &#x27;2026-02-30&#x27; is not a real date" in body
    assert "    3 | date: 2026-02-30" in body and "/_pipeline/version" in body
    source.write_text(good)
    wait_for(base, "/blog/", lambda b: "Latest articles" in b)


def test_source_links_open_the_file_at_its_line(server):
    _, base = server
    status, body = get(base + "/_pipeline/source/content/posts/knee.md")
    assert status == 200 and 'id="L3"' in body and "2026-05-01" in body
    assert get(base + "/_pipeline/source/../../etc/passwd")[0] == 404


@pytest.mark.slow
def test_the_preview_page_shows_every_channel_in_a_browser(server):
    _, base = server
    done = subprocess.run([CHROMIUM, *FLAGS, "--user-data-dir=" + str(server[0] / ".chromium"),
                           "--window-size=1300,2000", "--dump-dom", base + "/_preview/knee-basics/"],
                          capture_output=True, text=True, timeout=120)
    dom = done.stdout
    for part in ("findings", "preview-blog", "preview-email-375", "preview-email-600", "preview-headers",
                 "preview-text", "preview-social", "post-x", "post-instagram", "post-bluesky"):
        assert f'id="{part}"' in dom, part
    assert 'src="/blog/knee-basics/"' in dom
    assert 'src="/_pipeline/file/newsletter/knee-basics/email.html"' in dom
    assert re.search(r'class="ok length">\d+ / 280<', dom)
    assert "List-Unsubscribe" in dom and "Educational only, not medical advice." in dom
    assert "warning[social-past]" in dom or "No findings." in dom or "warning[" in dom


def test_new_scaffolds_an_article_that_builds_and_refuses_to_overwrite(tmp_path):
    project = make_project(tmp_path / "p")
    result = cli(project, "new", "Shoulder Pain: Three Questions", "--tags", "shoulder, pain relief")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Created content/posts/shoulder-pain-three-questions.md")
    source = (project / "content/posts/shoulder-pain-three-questions.md").read_text()
    today = datetime.now(timezone.utc).astimezone().date()
    assert 'title: "Shoulder Pain: Three Questions"' in source and 'tags: ["shoulder", "pain relief"]' in source
    assert re.search(r"date: (\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:00[-+]\d{2}:\d{2}", source)
    assert abs((datetime.fromisoformat(re.search(r"date: (\S+)", source).group(1)).date() - today).days) <= 1
    built = cli(project, "build", "--drafts")
    assert built.exit_code == 0, built.stderr
    assert (project / "output/site/shoulder-pain-three-questions/index.html").exists()
    again = cli(project, "new", "Shoulder Pain: Three Questions")
    assert again.exit_code == 1
    assert "content/posts/shoulder-pain-three-questions.md: error: this article already exists" in again.stderr


def test_quiet_prints_errors_only_and_verbose_lists_everything(project):
    quiet = build(project, "--quiet")
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""
    (project / "content/posts/knee.md").write_text(post("Knee Basics", "2026-05-01", "Changed.", tags="[knee]"))
    verbose = build(project, "--verbose")
    assert "  changed  site/knee-basics/index.html" in verbose.stdout
    assert "Rendering articles..." in verbose.stderr and re.search(r"\d+\.\d\d s", verbose.stderr)
    summary = verbose.stdout.splitlines()[-1]
    assert re.match(r"Built 2 articles: \d+ files \(blog \d+, feed 2, newsletter 6, social \d+, report 1\) in "
                    r"output/ in \d+\.\d\d s", summary)


def test_a_progress_bar_is_drawn_on_a_terminal_and_not_in_ci(project):
    done = subprocess.run(["script", "-qec", f"{sys.executable} -m pipeline build --now 2026-11-24", "/dev/null"],
                          cwd=project, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "TERM": "xterm",
                                                                            "HOME": str(project)}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[" in done.stdout and "Rendering articles" in done.stdout and "/4 " in done.stdout
    plain = build(project)
    assert "Rendering articles" not in plain.stderr and "\r" not in plain.stderr
