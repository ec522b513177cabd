"""Newsletter emails as a reader sees them: rendered in Chromium at phone and desktop width, the
colours of their links and button measured against what is really painted behind them, in the
normal palette and the inverted one that Gmail's apps force in dark mode (STANDARDS H9)."""

from __future__ import annotations

import pytest

from browser import ARTIFACTS
from conftest import cli, make_project, post

pytestmark = pytest.mark.slow

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]

# Per element: its text colour and the colour painted behind it (the nearest ancestor, itself
# included, with an opaque background: a bgcolor attribute shows as its computed background).
PAINT = """elements => elements.map(el => {
  const rgb = text => text.match(/[\\d.]+/g).map(Number);
  let node = el, background = null;
  while (node && node.nodeType === 1) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length < 4 || c[3] > 0) { background = c.slice(0, 3); break; }
    node = node.parentElement;
  }
  const box = el.getBoundingClientRect();
  const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return {text: el.textContent.trim(), color: rgb(getComputedStyle(el).color).slice(0, 3),
          background: background || [255, 255, 255], width: box.width, height: box.height,
          right: box.right, painted: top === el || el.contains(top)};
})"""


def _luminance(rgb) -> float:
    linear = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def inverted(rgb):
    return [255 - c for c in rgb]


@pytest.fixture(scope="module")
def emails(tmp_path_factory):
    """Both kinds of email: one article's, and a digest of several."""
    project = make_project(tmp_path_factory.mktemp("render") / "p", {
        "knee.md": post("Knee Basics", "2026-02-05", "Knees carry a lot. See [a study](https://example.org/s).",
                        image="https://example.org/knee.jpg", image_alt="A knee"),
        "hip.md": post("Hip Strength", "2026-02-10", "Strong hips help runners."),
    })
    result = cli(project, "digest", "--since", "2026-02-01", "--until", "2026-02-28", "--now", "2026-11-24")
    assert result.exit_code == 0, result.stderr
    folder = project / "output/newsletter"
    return {name: (folder / name / "email.html").read_text() for name in ("knee-basics", "digest-2026-02-28")}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        yield chromium
        chromium.close()


def painted(browser, html: str, width: int, selector: str, shot: str | None = None) -> list[dict]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.route("**/*", lambda route: route.abort())   # remote images: never fetched
        page.set_content(html, wait_until="domcontentloaded")
        if shot:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
        return page.eval_on_selector_all(selector, PAINT)
    finally:
        page.close()


@pytest.mark.parametrize("width", [375, 600])
@pytest.mark.parametrize("name, buttons", [("knee-basics", 1), ("digest-2026-02-28", 2)])
def test_the_button_is_legible_where_it_is_painted(emails, browser, name, buttons, width):
    shown = painted(browser, emails[name], width, "a.button", f"email-{name}-{width}.png")
    assert len(shown) == buttons and all(b["text"].endswith(" on our blog") for b in shown), shown
    for button in shown:
        assert button["painted"] and button["width"] > 0 and button["height"] >= 40, button
        assert button["right"] <= width, button
        assert button["background"] != [255, 255, 255], button   # a button, not a bare link
        assert contrast(button["color"], button["background"]) >= 4.5, button
        assert contrast(inverted(button["color"]), inverted(button["background"])) >= 4.5, button


@pytest.mark.parametrize("width", [375, 600])
@pytest.mark.parametrize("name", ["knee-basics", "digest-2026-02-28"])
def test_every_link_and_text_cell_is_legible_in_light_and_inverted_palettes(emails, browser, name, width):
    found = painted(browser, emails[name], width, "a, p, h1, td.browser, td.header, td.footer, td.disclaimers")
    assert len(found) > 8
    for element in found:
        if not element["text"] or not element["width"]:
            continue
        assert contrast(element["color"], element["background"]) >= 4.5, element
        assert contrast(inverted(element["color"]), inverted(element["background"])) >= 4.5, element
