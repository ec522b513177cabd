"""What a reader sees, measured in Debian's Chromium through Playwright (no browser download, no
network): axe-core's serious and critical violations, the contrast of every visible text against
the background it is really drawn on, sideways scrolling, and a full-page screenshot.

Network: every request is answered from local folders (a URL prefix maps to a folder) or aborted,
so a page or an email renders offline exactly as it would from the published site."""

from __future__ import annotations

import mimetypes
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "reader-audit"
HEIGHT = 900
NORMAL, LARGE = 4.5, 3.0   # WCAG 2.x AA minimum contrast for normal and large text
BLOCKING = ("serious", "critical")

# For each element with a non-blank text node of its own that a reader can see: its text colour and
# the colour behind it, both composited as painted (alpha, opacity groups, the canvas white),
# walking the DOM ancestors; a background image under the text, or a filter or blend mode over it,
# makes the colours unknown (reported, never guessed).
# Hidden text (display:none, visibility, opacity 0, clipped to under 2 px by an ancestor with
# overflow other than visible, or painted entirely off the page) is not a reader's text.
TEXTS_JS = r"""() => {
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TITLE', 'HEAD']);
  const INVISIBLE = /[\u00ad\u034f\u200b-\u200d\u2060\ufeff]/g;   // zero-width characters: no ink
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (value) => {
    const m = value.match(/^rgba?\(([^)]*)\)$/);
    if (m) {
      const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = value; ctx.fillRect(0, 0, 1, 1);  // any other syntax: as sRGB
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]));
  const lerp = (from, to, t) => [0, 1, 2].map(i => from[i] * (1 - t) + to[i] * t);
  const ancestry = (el) => { const chain = []; for (let n = el; n; n = n.parentElement) chain.push(n); return chain; };
  const name = (el) => {
    const parts = [];
    for (let n = el; n && n.nodeType === 1 && parts.length < 4; n = n.parentElement) {
      let part = n.tagName.toLowerCase();
      if (n.id) part += '#' + n.id;
      if (n.classList.length) part += '.' + [...n.classList].join('.');
      parts.unshift(part);
      if (n.id) break;
    }
    return parts.join(' > ');
  };
  const width = document.documentElement.scrollWidth, height = document.documentElement.scrollHeight;
  const seen = (text, el) => {
    const range = document.createRange();
    range.selectNodeContents(text);
    let boxes = [...range.getClientRects()].map(r => [r.left, r.top, r.right, r.bottom]);
    for (const n of ancestry(el)) {
      const cs = getComputedStyle(n);
      if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
      const c = n.getBoundingClientRect();
      boxes = boxes.map(b => [Math.max(b[0], c.left), Math.max(b[1], c.top), Math.min(b[2], c.right), Math.min(b[3], c.bottom)]);
    }
    const sx = window.scrollX, sy = window.scrollY;
    return boxes.some(b => b[2] - b[0] >= 2 && b[3] - b[1] >= 2
                        && b[2] + sx > 0 && b[3] + sy > 0 && b[0] + sx < width && b[1] + sy < height);
  };
  const found = new Map();
  const walker = document.createTreeWalker(document.body || document.documentElement, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const el = text.parentElement;
    const words = text.data.replace(INVISIBLE, '').trim();
    if (!el || !words || ancestry(el).some(n => SKIP.has(n.tagName))) continue;
    if (found.has(el)) { found.get(el).text += ' ' + words; continue; }
    const style = getComputedStyle(el);
    if (style.visibility !== 'visible') continue;
    const chain = ancestry(el);
    const opacity = chain.reduce((product, n) => product * parseFloat(getComputedStyle(n).opacity), 1);
    if (opacity < 0.01 || !seen(text, el)) continue;
    let unknown = null, solid = true;
    const mixed = chain.find(n => { const cs = getComputedStyle(n); return cs.filter !== 'none' || cs.mixBlendMode !== 'normal'; });
    if (mixed) unknown = `filter or blend mode on <${name(mixed)}>`;
    for (const n of mixed ? [] : chain) {
      const cs = getComputedStyle(n);
      if (cs.backgroundImage !== 'none') { unknown = `background-image on <${name(n)}>: ${cs.backgroundImage.slice(0, 80)}`; break; }
      solid = solid && parseFloat(cs.opacity) === 1;
      if (solid && rgba(cs.backgroundColor)[3] === 1) break;
    }
    let back = [255, 255, 255];
    const groups = [];
    for (const n of [...chain].reverse()) {
      const cs = getComputedStyle(n);
      const alpha = parseFloat(cs.opacity);
      if (alpha < 1) groups.push([back, alpha]);
      back = over(rgba(cs.backgroundColor), back);
    }
    let fore = over(rgba(style.webkitTextFillColor || style.color), back);
    for (const [saved, alpha] of groups.reverse()) { fore = lerp(saved, fore, alpha); back = lerp(saved, back, alpha); }
    found.set(el, {text: words, element: name(el), color: fore, background: back,
                   size: parseFloat(style.fontSize), weight: parseInt(style.fontWeight, 10), unknown});
  }
  return [...found.values()];
}"""


def luminance(rgb) -> float:
    """WCAG 2.x relative luminance of an sRGB colour given as 0-255 channels."""
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in rgb)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def large(size_px: float, weight: int) -> bool:
    """WCAG large text: at least 18 pt (24 px), or 14 pt (18.66 px) and bold."""
    return size_px >= 24 or (size_px >= 18.66 and weight >= 700)


def _css(rgb) -> str:
    return "rgb({})".format(", ".join(f"{round(c)}" for c in rgb))


@dataclass
class Audit:
    """One page or email at one viewport width, as a reader's browser shows it."""
    name: str
    width: int
    violations: list[dict]      # axe-core's serious and critical ones
    texts: list[dict]           # see TEXTS_JS
    scroll_width: int
    client_width: int
    screenshot: Path
    missing: list[str] = field(default_factory=list)   # the site's own files that were not found
    blocked: list[tuple[str, str]] = field(default_factory=list)   # requests elsewhere: (type, URL)

    @property
    def where(self) -> str:
        return f"{self.name} at {self.width} px"

    def axe_failures(self) -> list[str]:
        return [f"{self.where}: {v['id']} ({v['impact']}): {v['help']}; at "
                + ", ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:5])
                + (f" and {len(v['nodes']) - 5} more" if len(v["nodes"]) > 5 else "")
                for v in self.violations]

    def contrast_failures(self) -> list[str]:
        failures = []
        for t in self.texts:
            snippet = t["text"][:60] + ("..." if len(t["text"]) > 60 else "")
            if t["unknown"]:
                failures.append(f"{self.where}: {snippet!r} <{t['element']}>: colours unknown ({t['unknown']})")
                continue
            ratio, needed = contrast(t["color"], t["background"]), LARGE if large(t["size"], t["weight"]) else NORMAL
            if ratio < needed:
                failures.append(f"{self.where}: {snippet!r} <{t['element']}>: {_css(t['color'])} on "
                                f"{_css(t['background'])} is {ratio:.2f}:1, needs {needed}:1 "
                                f"({t['size']:g}px, weight {t['weight']})")
        return failures

    def scroll_failures(self) -> list[str]:
        if self.scroll_width <= self.client_width:
            return []
        return [f"{self.where}: scrolls sideways ({self.scroll_width} px of content in {self.client_width} px)"]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright's bundled driver (nothing is downloaded)."""
    if not Path(CHROMIUM).exists():
        raise AssertionError(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Reader:
    """One browser context that serves `sites` (URL prefix -> folder) and aborts every other request."""

    def __init__(self, browser: Browser, sites: dict[str, Path] | None = None):
        self.sites = {prefix: Path(folder) for prefix, folder in (sites or {}).items()}
        self.missing: list[str] = []   # requests for the sites' files that do not exist (answered 404)
        self.blocked: list[tuple[str, str]] = []   # every other request (aborted): (resource type, URL)
        self.context = browser.new_context(viewport={"width": 1280, "height": HEIGHT}, color_scheme="light",
                                           service_workers="block")
        self.context.route("**/*", self._answer)
        self.axe = Axe()

    def _answer(self, route: Route) -> None:
        url = route.request.url
        for prefix, folder in self.sites.items():
            if url.startswith(prefix):
                relative = unquote(urlsplit(url).path[len(urlsplit(prefix).path):])
                path = (folder / relative).resolve()
                if path.is_dir():
                    path = path / "index.html"
                if path.is_file() and path.is_relative_to(folder.resolve()):
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    route.fulfill(status=200, body=path.read_bytes(), content_type=kind)
                    return
                self.missing.append(url)
                route.fulfill(status=404, body=b"not found", content_type="text/plain")
                return
        self.blocked.append((route.request.resource_type, url))
        route.abort("blockedbyclient")

    def audit(self, name: str, width: int, *, url: str | None = None, html: str | None = None,
              shot: str | None = None) -> Audit:
        """Open `url` (served from the sites) or `html` (as an email client would, set as the
        page's content) at `width` CSS px and measure it; `shot` names the screenshot file."""
        page: Page = self.context.new_page()
        try:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            before = len(self.missing), len(self.blocked)
            if url is not None:
                page.goto(url, wait_until="load")
            else:
                page.set_content(html, wait_until="load")
            target = ARTIFACTS / (shot or f"{name.replace('/', '-')}-{width}.png")
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=target, full_page=True)
            scroll, client = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            texts = page.evaluate(TEXTS_JS)
            result = self.axe.run(page).response
            violations = [v for v in result["violations"] if v["impact"] in BLOCKING]
            return Audit(name, width, violations, texts, scroll, client, target, self.missing[before[0]:],
                         self.blocked[before[1]:])
        finally:
            page.close()

    def close(self) -> None:
        self.context.close()
