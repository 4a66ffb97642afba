"""The tutorial website and the notebooks in a real browser (headless Chromium driven by Playwright).

Needs Debian's ``chromium`` (``.ci/apt-packages.txt``) and the ``playwright`` Python package (the
``docs`` extra); Playwright's own browser download is not used. Skipped with the reason when either is
missing. Screenshots go to ``.ci/artifacts/``. ``$HEPML_NB_TEST_BOOK_DIR`` keeps the book's execution
cache between sessions (like ``$HEPML_NB_TEST_CACHE`` for the data).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from hepml_nb.course.catalog import TOPICS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[1] / ".ci" / "artifacts"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def _playwright():
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH: apt-get install chromium (listed in .ci/apt-packages.txt)")
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[docs]'")


@contextlib.contextmanager
def _serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 at a free port from a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no request log in the test output
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The whole book built in the ci profile (every topic)."""
    _playwright()
    from hepml_nb.course.book import build_book

    build = Path(os.environ.get("HEPML_NB_TEST_BOOK_DIR") or tmp_path_factory.mktemp("book-build"))
    out = tmp_path_factory.mktemp("site")
    build_book(out, profile="ci", build_dir=build, jupyterhub="https://hub.example.org")
    return out


@pytest.fixture(scope="module")
def browser():
    sync_api = _playwright()
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def _open(browser, url: str):
    """A new page at ``url`` with its console errors and page errors collected in ``page.errors``."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.errors = []
    page.on("console", lambda msg: page.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.errors.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: page.errors.append(f"request failed: {req.url}"))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return page


_MATH_DONE = (
    "!window.MathJax || (MathJax.isReady && MathJax.Hub.queue.pending === 0 && MathJax.Hub.queue.running === 0"
    " && !document.querySelector('#MathJax_Message[style*=\"visible\"]'))"
)


def _wait_for_math(page) -> None:
    """Wait until MathJax (served by the site) has typeset the page."""
    page.wait_for_function(_MATH_DONE, timeout=30_000)


_BROKEN_IMAGES = "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"


def test_every_page_loads_cleanly_with_decoded_figures(site, browser):
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts)
    assert len(pages) >= len(TOPICS) * 2
    problems = {}
    with _serve(site) as base:
        for name in pages:
            page = _open(browser, f"{base}/{name}")
            page.evaluate(
                "document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });"
                "window.scrollTo(0, document.body.scrollHeight)"
            )
            page.wait_for_load_state("networkidle")
            page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=15_000)
            _wait_for_math(page)
            broken = page.evaluate(_BROKEN_IMAGES)
            text = page.inner_text("body")
            found = page.errors + [f"image did not decode: {src}" for src in broken]
            found += ["a Python traceback"] * ("Traceback (most recent call last)" in text)
            found += ["an error output"] * bool(page.query_selector(".output.error, .output.traceback"))
            if found:
                problems[name] = found
            page.close()
    assert not problems


def test_navigation_reaches_every_topic_and_screenshots(site, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with _serve(site) as base:
        index = _open(browser, f"{base}/index.html")
        for key, topic in TOPICS.items():
            stem = Path(topic.notebook).stem
            link = index.locator(f"nav a[href$='notebooks/{stem}.html']").first
            assert link.count(), f"no navigation link to the {key} notebook"
            with index.expect_navigation():
                link.click()
            assert index.url.endswith(f"notebooks/{stem}.html")
            assert index.locator("h1:visible").count() >= 1
            assert index.locator("img").count() >= (1 if key != "setup" else 0)
            _wait_for_math(index)
            if key == "particlenet":
                typeset = index.evaluate(
                    "[document.querySelectorAll('main .MathJax_CHTML').length,"
                    " document.querySelectorAll('main span.math').length]"
                )
                assert typeset[0] >= typeset[1] > 0, f"only {typeset[0]} of {typeset[1]} formulas typeset"
            index.screenshot(path=str(ARTIFACTS / f"site_{key}.png"))
            figures = index.locator("main .cell_output img")
            if figures.count():
                figures.first.scroll_into_view_if_needed()
                index.screenshot(path=str(ARTIFACTS / f"site_{key}_figure.png"))
            index.go_back()
        assert not index.errors


def test_search_finds_particlenet(site, browser):
    with _serve(site) as base:
        page = _open(browser, f"{base}/search.html?q=ParticleNet")
        page.wait_for_selector("#search-results li", timeout=30_000)
        hits = page.locator("#search-results li a").evaluate_all("links => links.map(a => a.href)")
        page.screenshot(path=str(ARTIFACTS / "site_search.png"))
        assert any("01_particlenet_jet_tagging" in href for href in hits), hits
        assert not page.errors


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 (a free port, a random token) serving the notebooks with ci parameters injected.

    Yields (base URL, token, {topic: notebook name}). Notebook windowing is off, so that every cell's output
    is in the page; the app is exposed as ``window.jupyterapp`` to run commands and read the notebook model.
    """
    import json
    import secrets
    import subprocess
    import sys
    import time
    import urllib.request

    import papermill

    from hepml_nb.course.catalog import notebook_path
    from hepml_nb.course.runner import prepare_run

    _playwright()
    root = tmp_path_factory.mktemp("lab")
    names = {}
    for key in TOPICS:
        merged = prepare_run(key, "ci").params
        names[key] = notebook_path(key).name
        papermill.execute_notebook(
            str(notebook_path(key)), str(root / names[key]), parameters=merged, prepare_only=True, progress_bar=False
        )
    settings = root / ".lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = root / ".lab-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(root / ".lab-settings"),
        "HEPML_NB_RUN_DIR": str(root / "runs"),
        "JUPYTER_CONFIG_DIR": str(root / ".jupyter-config"),
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    env.pop("HEPML_NB_HEADLESS", None)
    log = (root / "lab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--expose-app-in-browser",
            "--LabApp.news_url=",
            "--ServerApp.port_retries=0",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(root / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield base, token, names
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


_RUN_ALL = "async () => { await window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext.session) return null;
  const cells = [];
  for (let i = 0; i < panel.content.model.cells.length; i++) {
    const cell = panel.content.model.cells.get(i);
    if (cell.type !== 'code') continue;
    const outputs = cell.outputs.toJSON();
    cells.push({count: cell.executionCount, pending: panel.content.widgets[i].promptNode?.textContent.includes('*'),
                errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)});
  }
  return {status: panel.sessionContext.session.kernel?.status, cells};
}"""


@pytest.mark.parametrize("topic", list(TOPICS))
def test_jupyterlab_runs_notebook_with_live_widget(jupyterlab, browser, topic):
    import time

    base, token, names = jupyterlab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # a fresh workspace per notebook (?reset): JupyterLab would otherwise reopen the earlier notebooks too
        page.goto(f"{base}/lab/workspaces/{topic}/tree/{names[topic]}?reset&token={token}")
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel?.status"
            " === 'idle'",
            timeout=120_000,
        )
        assert page.evaluate("window.jupyterapp.shell.currentWidget.context.path") == names[topic]
        page.evaluate(_RUN_ALL)
        deadline, state = time.monotonic() + 600, None
        while time.monotonic() < deadline:
            state = page.evaluate(_STATE)
            done = state and state["status"] == "idle" and not any(c["pending"] for c in state["cells"])
            if done and (all(c["count"] for c in state["cells"]) or any(c["errors"] for c in state["cells"])):
                break  # every cell ran, or run-all stopped at an error
            time.sleep(2)
        widgets = page.locator(".jp-OutputArea .widget-interact")  # hn.explore: ipywidgets.interactive
        if widgets.count():
            widgets.first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"lab_{topic}.png"))
        assert state and all(c["count"] for c in state["cells"]), f"not every cell ran: {state}"
        errors = [e for c in state["cells"] for e in c["errors"]]
        assert not errors
        assert widgets.count() > 0, "the ipywidgets explorer did not render as a live widget"
    finally:  # shut the kernel down even when an assertion failed, so the next notebook has the CPU
        with contextlib.suppress(Exception):
            page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.shutdown(); }")
        page.close()
