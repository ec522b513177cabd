"""`pipeline serve`: a local preview server. Builds drafts and future articles into
.pipeline/serve/ (never output/), serves the site on 127.0.0.1, rebuilds when content/ or
templates/ change, reloads open pages by itself, shows build errors in the browser, and offers a
preview page per article with every channel (/_preview/<slug>/)."""

from __future__ import annotations

import html
import json
import mimetypes
import threading
import traceback
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import jinja2

from pipeline.build import BuildResult, Options, run
from pipeline.errors import Finding, PipelineError, count_findings

RELOAD_SCRIPT = b"""<script>(function(){var seen=null;function poll(){fetch('/_pipeline/version',{cache:'no-store'})
.then(function(r){return r.json()}).then(function(d){if(seen===null){seen=d.version}else if(d.version!==seen)
{location.reload()}}).catch(function(){}).then(function(){setTimeout(poll,700)})}poll()})();</script>"""
_PREVIEW = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "assets")),
                              autoescape=True, undefined=jinja2.StrictUndefined)


LONG_POLL = 30   # seconds /_pipeline/version?after=N may wait for the next build


@dataclass
class State:
    version: int = 0   # builds made, failed ones included
    result: BuildResult | None = None
    errors: list[Finding] | None = None
    crash: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    built: threading.Condition = field(init=False)   # notified, under `lock`, after each build

    def __post_init__(self):
        self.built = threading.Condition(self.lock)


class PreviewServer:
    def __init__(self, root: Path, port: int = 8000, host: str = "127.0.0.1", on_build=None):
        self.root = root
        self.out = root / ".pipeline" / "serve"
        self.state = State()
        self.on_build = on_build or (lambda state: None)
        self.stop = threading.Event()
        self.built_from: tuple = ()
        self.httpd = ThreadingHTTPServer((host, port), self._handler())
        self.httpd.daemon_threads = True

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def fingerprint(self) -> tuple:
        """(path, mtime, size) of every source and template: a change no watcher event can miss."""
        entries = []
        for name in ("content", "templates"):
            folder = self.root / name
            if folder.is_dir():
                for path in folder.rglob("*"):
                    try:
                        stat = path.stat()
                    except OSError:
                        continue
                    entries.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(entries))

    def rebuild(self) -> None:
        """Build and swap in; on failure keep the last good output and show the errors instead."""
        self.built_from = self.fingerprint()
        try:
            # Written as `pipeline build` writes output/, so a rebuild after an edit makes only
            # what the edit changed; one process (no fork beside the server's threads).
            result = run(self.root, Options(drafts=True, future=True, jobs=1), out=self.out)
            with self.state.lock:
                self.state.result, self.state.errors, self.state.crash = result, None, None
        except PipelineError as exc:
            with self.state.lock:
                self.state.errors, self.state.crash = exc.findings, None
        except Exception:  # noqa: BLE001 - a bug must not stop the server; it is shown and printed
            with self.state.lock:
                self.state.crash = traceback.format_exc()
        with self.state.lock:
            self.state.version += 1
            self.state.built.notify_all()
        self.on_build(self.state)

    def watch(self) -> None:
        import watchfiles

        folders = [str(self.root / name) for name in ("content", "templates") if (self.root / name).is_dir()]
        # Events trigger a rebuild at once; every second the fingerprint also catches what a
        # watcher can miss (changes made before it started, editors that replace files).
        for _ in watchfiles.watch(*folders, stop_event=self.stop, debounce=300, step=50, raise_interrupt=False,
                                  yield_on_timeout=True, rust_timeout=1000):
            if self.fingerprint() != self.built_from:
                self.rebuild()

    def serve_forever(self) -> None:
        watcher = threading.Thread(target=self.watch, name="watch", daemon=True)
        watcher.start()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.stop.set()
            self.httpd.server_close()

    # --- HTTP ---------------------------------------------------------------------------------
    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - quiet: the CLI prints what matters
                pass

            def do_GET(self):  # noqa: N802 - http.server's naming
                try:
                    refused = _refused(self.headers.get("Host"), self.path)
                    if refused is not None:
                        return _send(self, refused[0], refused[1].encode(), "text/plain")
                    try:
                        server.respond(self, unquote(urlsplit(self.path).path))
                    except (OSError, ValueError) as exc:   # a name no file can have (too long, ...)
                        if isinstance(exc, BrokenPipeError):
                            raise
                        return _send(self, HTTPStatus.NOT_FOUND, b"Not found", "text/plain")
                except BrokenPipeError:
                    pass
                return None

        return Handler

    def respond(self, request, path: str) -> None:
        state = self.state
        if path == "/_pipeline/version":
            # ?after=N: answered once a build after the N-th is made (or LONG_POLL seconds have
            # passed), so a tool waits for the next build without asking again and again.
            after = parse_qs(urlsplit(request.path).query).get("after", [""])[0]
            with state.built:
                if after.isdigit():
                    state.built.wait_for(lambda: state.version != int(after), timeout=LONG_POLL)
                version = state.version
            return _send(request, HTTPStatus.OK, json.dumps({"version": version}).encode(), "application/json")
        if path.startswith("/_pipeline/source/"):
            return self._source(request, path[len("/_pipeline/source/"):])
        if path.startswith("/_pipeline/file/"):
            return self._file(request, path[len("/_pipeline/file/"):], inject=False)
        if state.errors or state.crash:
            if path.startswith("/_preview") or path.endswith("/") or path.endswith(".html"):
                return _send(request, HTTPStatus.INTERNAL_SERVER_ERROR, self._error_page(), "text/html")
        if path == "/_preview/" or path == "/_preview":
            return self._preview_index(request)
        if path.startswith("/_preview/"):
            return self._preview(request, path[len("/_preview/"):].strip("/"))
        base = self._base_path()
        if path == "/" and base != "/":
            request.send_response(HTTPStatus.FOUND)
            request.send_header("Location", base)
            request.end_headers()
            return None
        if not path.startswith(base):
            return _send(request, HTTPStatus.NOT_FOUND, b"Not found", "text/plain")
        return self._file(request, "site/" + path[len(base):], inject=True)

    def _base_path(self) -> str:
        result = self.state.result
        return result.site.config.base_path if result else "/"

    def _file(self, request, rel: str, inject: bool) -> None:
        target = (self.out / rel).resolve()
        if not target.is_relative_to(self.out.resolve()):
            return _send(request, HTTPStatus.NOT_FOUND, b"Not found", "text/plain")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return _send(request, HTTPStatus.NOT_FOUND, b"Not found", "text/plain")
        data = target.read_bytes()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if inject and kind == "text/html":
            data = _inject(data)
        return _send(request, HTTPStatus.OK, data, kind)

    def _error_page(self) -> bytes:
        state = self.state
        if state.crash:
            title, body = "The pipeline crashed (a bug: please report it)", state.crash
        else:
            errors = count_findings(state.errors).errors
            title = f"Build failed: {errors} error{'' if errors == 1 else 's'}"
            body = "\n".join(f.format() for f in state.errors)
        page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
                "<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem}pre{background:#1d2329;color:#f6f8fa;"
                "padding:1rem;overflow-x:auto}</style></head><body>"
                f"<h1>{html.escape(title)}</h1><p>Fix the file and save: this page reloads by itself.</p>"
                f"<pre id=\"errors\">{html.escape(body)}</pre></body></html>")
        return _inject(page.encode())

    def _source(self, request, rel: str) -> None:
        target = (self.root / rel).resolve()
        allowed = [(self.root / name).resolve() for name in ("content", "templates")]
        if not any(target.is_relative_to(a) for a in allowed) or not target.is_file():
            return _send(request, HTTPStatus.NOT_FOUND, b"Not found", "text/plain")
        lines = target.read_text("utf-8", "replace").split("\n")
        rows = "".join(f"<tr id=\"L{n}\"><td><a href=\"#L{n}\">{n}</a></td><td><pre>{html.escape(line)}</pre></td></tr>"
                       for n, line in enumerate(lines, start=1))
        page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(rel)}</title>"
                "<style>pre{margin:0}tr:target{background:#fff3c4}td{padding:0 8px}</style></head><body>"
                f"<h1>{html.escape(rel)}</h1><table>{rows}</table></body></html>")
        return _send(request, HTTPStatus.OK, _inject(page.encode()), "text/html")

    def _preview_index(self, request) -> None:
        result = self.state.result
        items = "".join(f"<li><a href=\"/_preview/{a.slug}/\">{html.escape(a.title)}</a>"
                        f"{' (draft)' if a.draft else ''}</li>" for a in (result.site.articles if result else ()))
        page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Previews</title></head>"
                f"<body><h1>Previews</h1><ul>{items}</ul></body></html>")
        return _send(request, HTTPStatus.OK, _inject(page.encode()), "text/html")

    def _preview(self, request, slug: str) -> None:
        result = self.state.result
        article = next((a for a in result.site.articles if a.slug == slug), None) if result else None
        if article is None:
            return _send(request, HTTPStatus.NOT_FOUND, b"No such article", "text/plain")
        message = BytesParser(policy=policy.default).parsebytes(
            (self.out / "newsletter" / slug / "message.eml").read_bytes())
        text_part = next(p for p in message.iter_parts() if p.get_content_type() == "text/plain").get_content()
        social_file = self.out / "social" / f"{slug}.json"
        posts = json.loads(social_file.read_text())["posts"] if social_file.exists() else {}
        page = _PREVIEW.get_template("preview.html").render(
            article=article, page_url=result.site.config.base_path + article.path,
            findings=[f for f in result.findings if f.path == article.source],
            headers=[(k, str(v)) for k, v in message.items()], text_part=text_part.replace("\r\n", "\n"),
            posts=list(posts.items()))
        return _send(request, HTTPStatus.OK, _inject(page.encode()), "text/html")


MAX_TARGET = 2048   # characters of a request's path and query
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _refused(host: str | None, target: str) -> tuple[HTTPStatus, str] | None:
    """Why a request is not answered (status, text), or None. Only a Host of this machine is
    served: a page on another site, its name pointed at 127.0.0.1 (DNS rebinding), could
    otherwise read drafts and sources through the visitor's browser."""
    if host is None:
        return HTTPStatus.BAD_REQUEST, "Bad request: no Host header"
    name, _, port = host.strip().lower().rpartition(":") if not host.strip().endswith("]") else (host.strip(), "", "")
    if not name:   # no port given
        name, port = port, ""
    if name not in LOCAL_HOSTS or (port and not port.isdigit()):
        return HTTPStatus.MISDIRECTED_REQUEST, "Misdirected request: the preview answers only to localhost and 127.0.0.1"
    if len(target) > MAX_TARGET:
        return HTTPStatus.BAD_REQUEST, f"Bad request: the address is longer than {MAX_TARGET} characters"
    path = unquote(urlsplit(target).path)
    if not target.startswith("/") or any(ord(c) < 32 or ord(c) == 127 for c in target + path):
        return HTTPStatus.BAD_REQUEST, "Bad request: malformed path"
    return None


def _inject(data: bytes) -> bytes:
    index = data.rfind(b"</body>")
    return data[:index] + RELOAD_SCRIPT + data[index:] if index >= 0 else data + RELOAD_SCRIPT


def _send(request, status: HTTPStatus, data: bytes, kind: str) -> None:
    request.send_response(status)
    request.send_header("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") or kind.endswith("json")
                                                else ""))
    request.send_header("Content-Length", str(len(data)))
    request.send_header("Cache-Control", "no-store")
    request.end_headers()
    request.wfile.write(data)
