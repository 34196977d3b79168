"""The built book, checked the way a reader meets it: in a real browser, offline.

Serves ``_build/html`` on localhost and drives Debian's headless Chromium through
its chromedriver (Selenium; no test tool downloads a browser).  Chromium's host
resolver maps every name but localhost to "not found", so anything the pages
try to fetch from a CDN fails to load, shows up as a console error and fails
the test.

For every page of the table of contents: it loads, the console shows no
errors, every image has loaded and has alt text, every equation is rendered by
MathJax, the headings form an outline, and screenshots at a desktop and a phone
width are written to ``_build/screenshots/``.  On pages with pre-rendered
explorers (matplotlib ``to_jshtml`` animations), moving the frame slider changes
the frame.  On notebook pages, the Colab and Binder buttons point at notebooks
that exist in this repository at those paths.  Embedded ipywidgets render
without a kernel.

Needs the built book (``make book``) and ``/usr/bin/chromium`` and
``/usr/bin/chromedriver`` (``make browser``).  Without them the tests skip,
unless ``RARUNET_REQUIRE_BROWSER=1`` (set by ``make test`` and CI), where they fail.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REQUIRED = os.environ.get("RARUNET_REQUIRE_BROWSER") == "1"


def _missing() -> str | None:
    if not (HTML / "index.html").exists():
        return f"no built book at {HTML} (run `make book`)"
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not Path(exe).exists():
            return f"{exe} not found (run `make browser` to install Debian's chromium and chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


_reason = _missing()
if _reason and REQUIRED:
    raise RuntimeError(f"RARUNET_REQUIRE_BROWSER=1 but {_reason}")
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")


def _toc_pages() -> list[str]:
    """Document names in the table of contents, in reading order."""
    import yaml

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(node):
        for key in ("chapters", "sections", "parts"):
            for child in node.get(key, []) or []:
                if "file" in child:
                    pages.append(child["file"])
                walk(child)

    walk(toc)
    return pages


PAGES = _toc_pages()
NOTEBOOK_PAGES = [p for p in PAGES if (ROOT / f"{p}.ipynb").exists()]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--hide-scrollbars", "--window-size=1280,900",
                # offline: no name resolves except localhost, so a CDN request fails
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost, EXCLUDE 127.0.0.1",
                "--no-proxy-server", "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(driver, url: str) -> list[dict]:
    """Load a page, wait for MathJax and images, return the console messages."""
    driver.get_log("browser")  # drop anything left from the previous page
    driver.get(url)
    deadline = time.time() + 30
    while time.time() < deadline:
        ready = driver.execute_script(
            "return document.readyState === 'complete'"
            " && (!window.MathJax || !MathJax.startup || !MathJax.startup.promise"
            "     || window.__mjDone === true)"
            " && Array.from(document.images).every(i => i.complete);")
        if ready:
            break
        driver.execute_script(
            "if (window.MathJax && MathJax.startup && MathJax.startup.promise && !window.__mjHooked) {"
            "  window.__mjHooked = true; MathJax.startup.promise.then(() => { window.__mjDone = true; }); }")
        time.sleep(0.2)
    time.sleep(0.5)  # late console messages (widget manager, fonts)
    return driver.get_log("browser")


@pytest.fixture(scope="module")
def reports(browser, server):
    """Visit every page once: console, images, math, headings, explorers, buttons, screenshots."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = {}
    for page in PAGES:
        url = f"{server}/{page}.html"
        browser.set_window_size(1280, 900)
        console = _open(browser, url)
        info = browser.execute_script(_PAGE_JS)
        info["console"] = [m for m in console if m.get("level") in ("SEVERE", "ERROR")]
        info["warnings"] = [m for m in console if m.get("level") == "WARNING"]
        info["explorers"] = _move_sliders(browser)
        _screenshot(browser, SHOTS / f"{page.replace('/', '__')}__desktop.png", 1280)
        _screenshot(browser, SHOTS / f"{page.replace('/', '__')}__phone.png", 390)
        browser.set_window_size(1280, 900)
        out[page] = info
    return out


_PAGE_JS = r"""
const main = document.querySelector('main') || document.body;
const imgs = Array.from(main.querySelectorAll('img')).map(i => ({
  src: i.getAttribute('src'), w: i.naturalWidth, h: i.naturalHeight,
  alt: (i.getAttribute('alt') || '').trim(),
  caption: !!(i.closest('figure') && i.closest('figure').querySelector('figcaption'))}));
const maths = Array.from(main.querySelectorAll('.math, span.math, div.math'));
const unrendered = maths.filter(m => !m.querySelector('mjx-container') && !m.matches('mjx-container')).length;
const heads = Array.from(main.querySelectorAll('article h1, article h2, article h3, article h4, article h5, article h6'))
  .map(h => ({level: +h.tagName[1], text: h.textContent.replace('#', '').trim()}));
const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href)
  .filter(h => h.includes('colab.research.google.com') || h.includes('mybinder.org'));
const widgets = main.querySelectorAll('.jupyter-widgets, .widget-slider, .widget-dropdown').length;
const widgetState = !!document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
return {title: document.title, status: document.body ? 'ok' : 'empty', images: imgs, n_math: maths.length,
        unrendered_math: unrendered, merror: main.querySelectorAll('mjx-merror').length, headings: heads,
        launch_links: links, widgets: widgets, widget_state: widgetState,
        scripts: Array.from(document.scripts).map(s => s.src).filter(s => s),
        styles: Array.from(document.querySelectorAll('link[rel=stylesheet]')).map(l => l.href),
        resources: performance.getEntriesByType('resource').map(e => e.name)};
"""


def _move_sliders(driver) -> list[dict]:
    """For every jshtml animation: move its slider, report the frame before and after."""
    return driver.execute_script(r"""
      const out = [];
      for (const slider of document.querySelectorAll('input[type=range][id^="_anim_slider"]')) {
        const id = slider.id.replace('_anim_slider', '');
        const img = document.getElementById('_anim_img' + id);
        const before = img ? img.src : null;
        const target = Math.min(+slider.max, Math.max(+slider.min + 1, Math.floor(+slider.max / 2)));
        slider.value = String(target);
        slider.dispatchEvent(new Event('input', {bubbles: true}));
        slider.dispatchEvent(new Event('change', {bubbles: true}));
        out.push({id: id, max: +slider.max, target: target, value: +slider.value,
                  changed: !!img && img.src !== before, has_img: !!img});
      }
      return out;""")


def _screenshot(driver, path: Path, width: int) -> None:
    driver.set_window_size(width, 900)
    time.sleep(0.3)
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 16000)")
    driver.set_window_size(width, max(900, int(height)))
    time.sleep(0.3)
    driver.save_screenshot(str(path))


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_console_errors(reports, page):
    r = reports[page]
    assert r["title"] and "404" not in r["title"], f"{page}: title {r['title']!r}"
    assert not r["console"], f"{page}: console errors: " + "; ".join(m["message"][:200] for m in r["console"])


@pytest.mark.parametrize("page", PAGES)
def test_images_loaded_with_alt_text(reports, page):
    for img in reports[page]["images"]:
        assert img["w"] > 0 and img["h"] > 0, f"{page}: image {img['src'][:80]} did not load"
        assert img["alt"] or img["caption"], f"{page}: image {img['src'][:80]} has no alt text or caption"


@pytest.mark.parametrize("page", PAGES)
def test_prose_shows_no_numpy_scalar_reprs(page):
    """A glued NumPy scalar once printed "np.int64(7)" in a sentence (NumPy 2's repr)."""
    text = (HTML / f"{page}.html").read_text(encoding="utf-8")
    found = re.findall(r"np\.(?:int|uint|float|bool_?)\d*\([^)]*\)", text)
    assert not found, f"{page}: NumPy reprs in the page: {sorted(set(found))[:5]}"


@pytest.mark.parametrize("page", PAGES)
def test_equations_rendered(reports, page):
    r = reports[page]
    assert r["unrendered_math"] == 0, f"{page}: {r['unrendered_math']} of {r['n_math']} equations not rendered"
    assert r["merror"] == 0, f"{page}: {r['merror']} MathJax errors"


@pytest.mark.parametrize("page", PAGES)
def test_headings_form_an_outline(reports, page):
    heads = reports[page]["headings"]
    assert heads, f"{page}: no headings"
    assert heads[0]["level"] == 1 and sum(h["level"] == 1 for h in heads) == 1, \
        f"{page}: expected exactly one h1, first: {heads[:2]}"
    for a, b in zip(heads, heads[1:], strict=False):
        assert b["level"] <= a["level"] + 1, f"{page}: heading {b['text']!r} (h{b['level']}) follows " \
                                             f"{a['text']!r} (h{a['level']}): a level is skipped"


def test_book_needs_no_cdn(reports):
    """Scripts, style sheets and everything the page fetched come from the book itself."""
    for page, r in reports.items():
        for kind in ("scripts", "styles", "resources"):
            remote = [s for s in r[kind] if not s.startswith(("http://127.0.0.1", "data:", "blob:"))]
            assert not remote, f"{page}: {kind} from outside the book: {remote}"


def test_mathjax_pages_exist(reports):
    """The check above would pass vacuously if no page had equations."""
    assert sum(r["n_math"] for r in reports.values()) > 10


def test_frame_sliders_change_the_frame(reports):
    pages_with = {p: r["explorers"] for p, r in reports.items() if r["explorers"]}
    assert any("02_label_noise" in p for p in pages_with), "the label-noise page has no pre-rendered explorer"
    for page, explorers in pages_with.items():
        for e in explorers:
            assert e["has_img"] and e["changed"], f"{page}: moving slider {e['id']} to {e['target']} " \
                                                  "did not change the frame"


def test_embedded_widgets_render_offline(reports):
    with_state = [p for p, r in reports.items() if r["widget_state"]]
    for page in with_state:
        assert reports[page]["widgets"] > 0, f"{page}: widget state embedded but no widget rendered"


def _repo_url() -> str:
    import yaml

    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    return cfg["repository"]["url"].rstrip("/"), cfg["repository"].get("branch", "main")


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_launch_buttons_point_at_existing_notebooks(reports, page):
    url, branch = _repo_url()
    owner_repo = urlparse(url).path.strip("/")
    links = reports[page]["launch_links"]
    colab = [u for u in links if "colab.research.google.com" in u]
    binder = [u for u in links if "mybinder.org" in u]
    assert colab and binder, f"{page}: launch buttons missing (found {links})"
    for u in colab:
        m = re.search(r"/github/([^/]+/[^/]+)/blob/([^/]+)/(.+\.ipynb)$", urlparse(u).path)
        assert m, f"{page}: unexpected Colab URL {u}"
        assert m.group(1) == owner_repo and m.group(2) == branch, f"{page}: Colab URL {u} is not {url}@{branch}"
        assert (ROOT / unquote(m.group(3))).is_file(), f"{page}: Colab URL names {m.group(3)}, not in the repository"
    for u in binder:
        p = urlparse(u)
        m = re.search(r"/v2/gh/([^/]+/[^/]+)/([^/?]+)", p.path)
        assert m and m.group(1) == owner_repo and m.group(2) == branch, f"{page}: Binder URL {u}"
        target = re.search(r"(?:urlpath=(?:tree|lab/tree)/|filepath=)([^&]+\.ipynb)", unquote(p.query))
        assert target, f"{page}: Binder URL {u} names no notebook"
        assert (ROOT / target.group(1)).is_file(), f"{page}: Binder URL names {target.group(1)}, not in the repository"


def test_screenshots_written(reports):
    for page in PAGES:
        for kind in ("desktop", "phone"):
            f = SHOTS / f"{page.replace('/', '__')}__{kind}.png"
            assert f.is_file() and f.stat().st_size > 1000, f"missing screenshot {f}"
