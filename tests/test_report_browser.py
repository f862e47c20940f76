"""The HTML report in a real headless Chromium, driven over the DevTools protocol.

Asserts that the page's own script ran without console errors or exceptions, that
every chart was drawn as SVG, that the page made no network request (the file is
self-contained), and takes a screenshot. Chromium comes from the project's
``scripts/install-chromium.sh`` (Debian's package); without it the test is skipped.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import sample_warehouse as sample
from newsdesk.analytics import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: run scripts/install-chromium.sh (Debian's chromium package)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,2400", "--remote-debugging-port=0"]


class DevTools:
    """A minimal CDP client for one page target (websockets' synchronous client)."""

    def __init__(self, ws_url: str):
        from websockets.sync.client import connect

        self._connection = connect(ws_url, max_size=None, open_timeout=20)
        self.ws = self._connection.__enter__()
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def send(self, method: str, timeout: float = 30.0, **params) -> dict:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict:
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.events.append(msg)
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.events.append(json.loads(self.ws.recv(timeout=max(0.05, deadline - time.monotonic()))))
            except TimeoutError:
                break

    def evaluate(self, expression: str):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    def close(self):
        self._connection.__exit__(None, None, None)


@pytest.fixture
def chromium(tmp_path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    log = open(tmp_path / "chromium.log", "wb")
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    f"chromium did not start: {(tmp_path / 'chromium.log').read_text(errors='replace')[-2000:]}"
                )
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        for _ in range(100):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
                pages = [t for t in json.load(resp) if t.get("type") == "page"]
            if pages:
                break
            time.sleep(0.1)
        client = DevTools(pages[0]["webSocketDebuggerUrl"])
        yield client
        client.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _open(cdp: DevTools, path: Path) -> None:
    for domain in ("Page", "Runtime", "Log", "Network"):
        cdp.send(f"{domain}.enable")
    cdp.send("Page.navigate", url=path.resolve().as_uri())
    cdp.wait_event("Page.loadEventFired")
    cdp.drain(0.5)  # late console messages


def _problems(cdp: DevTools) -> list[str]:
    out = []
    for ev in cdp.events:
        m, p = ev.get("method"), ev.get("params", {})
        if m == "Runtime.exceptionThrown":
            out.append(
                f"exception: {p['exceptionDetails'].get('text')} "
                f"{p['exceptionDetails'].get('exception', {}).get('description', '')}"
            )
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append(
                "console.error: " + " ".join(str(a.get("value", a.get("description"))) for a in p.get("args", []))
            )
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
    return out


def _requests(cdp: DevTools) -> list[str]:
    return [ev["params"]["request"]["url"] for ev in cdp.events if ev.get("method") == "Network.requestWillBeSent"]


@pytest.mark.slow
def test_report_renders_in_chromium(chromium, engine, tmp_path):
    sample.build_sample_warehouse(engine)
    out = tmp_path / "report.html"
    summary = report.write_report(engine, out)
    assert summary["clusters"] == 2 and summary["edges"] == 4

    _open(chromium, out)
    assert _problems(chromium) == []
    assert [u for u in _requests(chromium) if not u.startswith(("file:", "data:", "about:"))] == [], \
        "the report must not load anything from the network"

    state = chromium.evaluate("""(() => ({
        rendered: document.body.getAttribute('data-rendered'),
        failures: window.__newsdeskReport.failures,
        svgs: [...document.querySelectorAll('main svg')].map(s => s.closest('.chart').id),
        volumeBars: document.querySelectorAll('#volume svg rect.bar').length,
        copiesLine: document.querySelectorAll('#volume svg polyline.copies-line').length,
        clusterBars: document.querySelectorAll('#clusters svg rect.bar').length,
        clusterLabels: [...document.querySelectorAll('#clusters svg a text')].map(t => t.textContent),
        edges: document.querySelectorAll('#network svg path.edge').length,
        nodes: [...document.querySelectorAll('#network svg g.node text')].map(t => t.textContent).sort(),
        feedBars: document.querySelectorAll('#feeds svg rect.bar').length,
        feedRows: document.querySelectorAll('#feeds-table tr').length,
        badges: [...document.querySelectorAll('#feeds-table .badge')].map(b => b.textContent).sort(),
        width: document.querySelector('#volume svg').getBoundingClientRect().width,
    }))()""")
    assert state["rendered"] == "yes" and state["failures"] == []
    assert state["svgs"] == ["volume", "clusters", "network", "feeds"]
    assert state["volumeBars"] >= 10 and state["copiesLine"] == 1
    assert state["clusterBars"] == 2
    assert state["clusterLabels"][0].startswith("Russia's Putin says army is creating")
    assert state["edges"] == 4
    assert state["nodes"] == ["kyivpost.com", "msn.com", "reuters.com", "usnews.com", "yahoo.com"]  # publishers
    assert state["feedBars"] == 7 and state["feedRows"] == 8
    assert state["badges"] == ["disabled", "failing", "never polled", "ok", "ok", "ok", "stale"]
    assert state["width"] > 500

    shot = chromium.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    png = base64.b64decode(shot["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    (tmp_path / "report.png").write_bytes(png)


@pytest.mark.slow
def test_hostile_titles_stay_text(chromium, sqlite_engine, tmp_path):
    """A title with markup or a closing script tag is shown as text, never run."""
    from sqlalchemy import text as sql

    sample.build_sample_warehouse(sqlite_engine)
    evil = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
    with sqlite_engine.begin() as conn:
        conn.execute(sql("UPDATE articles SET title = :t WHERE relation = 'original' AND id IN "
                         "(SELECT original_article_id FROM clusters)"), {"t": evil})
    out = tmp_path / "evil.html"
    report.write_report(sqlite_engine, out)
    _open(chromium, out)
    assert _problems(chromium) == []
    assert chromium.evaluate("window.__pwned === undefined && document.querySelectorAll('img').length === 0")
    assert chromium.evaluate("document.body.getAttribute('data-rendered')") == "yes"
    labels = chromium.evaluate("[...document.querySelectorAll('#clusters svg a text')].map(t => t.textContent)")
    assert labels and all(label.startswith("</script><script>") for label in labels)
