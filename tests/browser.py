"""Headless Chromium (Debian's /usr/bin/chromium) for tests: measure and screenshot a page at a
given viewport width. Headless windows are at least 500 px wide, so narrower widths are rendered
in an iframe of exactly that width inside the window."""

from __future__ import annotations

import html as html_escape
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=5000"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _wrapper(page_html: str, width: int) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>frame</title></head>
<body style="margin:0;background:#888">
<iframe id="f" style="width:{width}px;height:4000px;border:0;display:block;background:#fff"
 srcdoc="{html_escape.escape(page_html, quote=True)}"></iframe>
<script>
function measure() {{
  var d = document.getElementById('f').contentDocument.documentElement;
  document.body.setAttribute('data-measure', d.scrollWidth + 'x' + d.clientWidth);
}}
var f = document.getElementById('f');
if (f.contentDocument && f.contentDocument.readyState === 'complete') measure();
f.addEventListener('load', measure);
</script></body></html>"""


def _run(args: list[str]) -> subprocess.CompletedProcess:
    if not Path(CHROMIUM).exists():
        raise AssertionError("Chromium is not installed: `apt-get install -y chromium` (.ci/run does this)")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=120)


def measure(page_html: str, width: int) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the page's root element at `width` CSS pixels."""
    with tempfile.TemporaryDirectory() as folder:
        wrapper = Path(folder) / "wrapper.html"
        wrapper.write_text(_wrapper(page_html, width), "utf-8")
        done = _run(["--window-size=800,1200", "--dump-dom", wrapper.as_uri()])
    found = re.search(r'data-measure="(\d+)x(\d+)"', done.stdout)
    assert found, f"Chromium did not measure the page: {done.stderr[-2000:]}"
    return int(found.group(1)), int(found.group(2))


def screenshot(page_html: str, width: int, name: str, height: int = 2400) -> Path:
    """A PNG of the page at `width` px, kept under test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    with tempfile.TemporaryDirectory() as folder:
        wrapper = Path(folder) / "wrapper.html"
        wrapper.write_text(_wrapper(page_html, width), "utf-8")
        _run([f"--window-size={max(width, 500)},{height}", f"--screenshot={target}", wrapper.as_uri()])
    assert target.exists() and target.stat().st_size > 1000, f"no screenshot written to {target}"
    return target
