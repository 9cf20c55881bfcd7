"""Plain functions that start the app and drive Debian's headless Chromium against it.

Shared by the e2e fixtures (tests/e2e/conftest.py) and the browser benchmarks in bench/, so "page finished
drawing" means the same thing in a test and in a timing.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repo (an editable install keeps this file in it)
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Playwright's own browser download fails here, so we launch Debian's build with the flags
# that keep it from phoning home (no network is the classroom case anyway).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
DEFAULT_TIMEOUT_MS = 60_000  # 2 shared cores: a page that imports torch can take a while


def missing_browser_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python package `playwright` not installed (pip install playwright; no `playwright install` needed)"
    return None


def require_browser() -> None:
    """A browser benchmark's first act: exit saying why where Chromium or playwright is missing."""
    reason = missing_browser_reason()
    if reason:
        sys.exit(f"cannot run: {reason}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_cmd(script: str = "app.py", port: int = 8501, python: str = sys.executable) -> list[str]:
    return [python, "-m", "streamlit", "run", script,
            "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            # others edit pages while the suite runs: no watcher, no "source changed" banners
            "--server.fileWatcherType", "none"]


def start_streamlit(script: str = "app.py", cwd: Path = ROOT, port: int | None = None,
                    log_path: Path | None = None, python: str = sys.executable, env: dict | None = None):
    """Popen of `streamlit run` in its own process group; returns (proc, base_url)."""
    return start_streamlit_with_args([], script, cwd, port, log_path, python, env)


def wait_health(base_url: str, proc: subprocess.Popen | None = None, timeout: float = 60.0,
                poll: float = 0.05, context=None) -> float:
    """Block until /_stcore/health answers "ok"; returns the time it took."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/_stcore/health", timeout=2, context=context) as r:
                if r.read().strip() == b"ok":
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(poll)
    raise TimeoutError(f"{base_url}/_stcore/health did not answer ok within {timeout:.0f} s")


def start_streamlit_with_args(extra_args: list[str], script: str = "app.py", cwd: Path = ROOT,
                              port: int | None = None, log_path: Path | None = None,
                              python: str = sys.executable, env: dict | None = None, scheme: str = "http"):
    """start_streamlit plus extra `streamlit run` flags (e.g. --server.sslCertFile ...); returns
    (proc, base_url) with `scheme` ("https" when the flags turn TLS on). Do not repeat a flag that
    streamlit_cmd already passes (port, address, headless...)."""
    port = port or free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 (open while the server runs)
    proc = subprocess.Popen(streamlit_cmd(script, port, python) + list(extra_args), cwd=cwd, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "GAN_DEVICE": os.environ.get("GAN_DEVICE", "cpu"), **(env or {})})
    return proc, f"{scheme}://127.0.0.1:{port}"


def unverified_ssl_context():
    """An SSL context that accepts any certificate: for a self-signed test server only."""
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def wait_health_insecure(base_url: str, proc: subprocess.Popen | None = None, timeout: float = 60.0,
                         poll: float = 0.05) -> float:
    """wait_health for an https:// server with a self-signed certificate (no verification)."""
    return wait_health(base_url, proc, timeout, poll, context=unverified_ssl_context())


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the server's process group (only the group we started), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def rss_mb(pid: int) -> float:
    """Resident memory of one process from /proc (no psutil needed)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler(threading.Thread):
    """A server's RSS from /proc every `every` seconds, as (seconds since start, MB)."""

    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples, self._halt = pid, every, [], threading.Event()

    def run(self):
        t0 = time.perf_counter()
        while not self._halt.is_set():
            self.samples.append((time.perf_counter() - t0, rss_mb(self.pid)))
            self._halt.wait(self.every)

    def stop(self):
        self._halt.set()
        self.join()

    def window(self, t_from: float, t_to: float) -> list[float]:
        return [m for t, m in self.samples if t_from <= t <= t_to]


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def launch_chromium_profile(playwright, user_data_dir, prefs: dict | None = None, **context_kwargs):
    """A persistent (regular, not off-the-record) Chromium profile in user_data_dir, with `prefs`
    written as its initial Default/Preferences, e.g. {"profile": {"cookie_controls_mode": 0}} to
    allow third-party cookies (1 blocks them). Returns the BrowserContext; close() ends the browser."""
    import json
    profile = Path(user_data_dir) / "Default"
    profile.mkdir(parents=True, exist_ok=True)
    if prefs:
        (profile / "Preferences").write_text(json.dumps(prefs), encoding="utf-8")
    return playwright.chromium.launch_persistent_context(str(user_data_dir), executable_path=CHROMIUM,
                                                         headless=True, args=CHROMIUM_ARGS, **context_kwargs)


# --- driving Streamlit -------------------------------------------------------------------------

APP = '[data-testid="stApp"]'


def wait_for_run(page, timeout_ms: int = DEFAULT_TIMEOUT_MS, settle_ms: int = 150) -> None:
    """Wait until the websocket is up and the script is not running.

    The attribute flips to "running" only after a round trip, so a short settle first avoids
    reading the state left over from before the click/navigation.
    """
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(f'{APP}[data-test-connection-state="CONNECTED"]', timeout=timeout_ms)
    page.wait_for_selector(f'{APP}[data-test-script-state="notRunning"]', timeout=timeout_ms)
    # elements left from the previous run are marked stale until redrawn or dropped
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=timeout_ms)


def goto(page, base_url: str, page_path: str = "", timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
    """Open base_url/page_path (e.g. "train") and wait until Streamlit finished running it."""
    page.goto(f"{base_url}/{page_path.lstrip('/')}", wait_until="domcontentloaded", timeout=timeout_ms)
    wait_for_run(page, timeout_ms)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout_ms)
    # Streamlit answers an unknown url path with a modal and runs the main page instead
    dialog = page.locator('[role="dialog"]').filter(has_text="Page not found")
    if dialog.count():
        raise AssertionError(f"Streamlit: page not found for /{page_path}: {dialog.first.inner_text()!r}")


def exception_texts(page) -> list[str]:
    return [e.inner_text() for e in page.locator('[data-testid="stException"]').all()]


def assert_no_exception(page) -> None:
    texts = exception_texts(page)
    assert not texts, "Streamlit exception box on the page:\n" + "\n---\n".join(texts)


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "shot"


_CONTENT_HEIGHT_JS = """() => Math.max(...['[data-testid="stMain"]', '[data-testid="stAppScrollToBottomContainer"]',
  '[data-testid="stSidebarContent"]'].map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight))"""


def screenshot(page, name: str, full_page: bool = True, max_height: int = 6000) -> Path:
    """PNG under artifacts/screenshots/. Streamlit scrolls inside its main container, not the
    document, so a "full page" shot grows the viewport to the content's height for the moment."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{safe_name(name)}.png"
    size = page.viewport_size
    tall = min(max_height, page.evaluate(_CONTENT_HEIGHT_JS) or 0) if full_page and size else 0
    if tall > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": tall})
        page.wait_for_timeout(300)  # charts and images re-layout
        try:
            page.screenshot(path=str(path))
        finally:
            page.set_viewport_size(size)
    else:
        page.screenshot(path=str(path))
    return path


def sidebar_nav_links(page):
    return page.locator('[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]')


def choose_selectbox(page, label: str, option: str, scope: str = "body") -> None:
    """Pick `option` in the Streamlit selectbox whose label contains `label`."""
    box = page.locator(f'{scope} [data-testid="stSelectbox"]').filter(has_text=label).first
    box.get_by_role("combobox").click()  # Streamlit 1.67 draws it with react-aria, not baseweb
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_run(page)


def metric_text(page, label: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> str:
    """The value shown by the st.metric whose label is exactly `label` ("Steps", not "Steps/s"). Where none
    comes, the error says what the page showed instead: its metrics, the script's state, stale elements."""
    exact = re.compile(rf"^\s*{re.escape(label)}\s*$")
    m = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=exact)).first
    value = m.locator('[data-testid="stMetricValue"]')
    try:
        value.wait_for(state="attached", timeout=timeout_ms)
    except Exception as e:  # playwright's TimeoutError: name what was there instead
        raise AssertionError(f"no metric {label!r} after {timeout_ms / 1000:g} s; {page_state(page)}") from e
    return value.inner_text().strip()


def page_state(page) -> str:
    """What a test that waited in vain needs to know: the metrics shown, the script's and connection's state,
    how many elements are stale, the exceptions."""
    return page.evaluate("""() => {
      const app = document.querySelector('[data-testid="stApp"]');
      const labels = [...document.querySelectorAll('[data-testid="stMetricLabel"]')].map(l => l.innerText.trim());
      return `metrics ${JSON.stringify(labels)}, script ${app && app.getAttribute('data-test-script-state')}, `
        + `connection ${app && app.getAttribute('data-test-connection-state')}, `
        + `${document.querySelectorAll('[data-stale="true"]').length} stale, `
        + `${document.querySelectorAll('[data-testid="stException"]').length} exceptions`;
    }""")


def metric_int(page, label: str) -> int:
    digits = re.sub(r"[^0-9]", "", metric_text(page, label))
    return int(digits) if digits else 0


def wait_metric_above(page, label: str, n: int, timeout: float = 60.0) -> int:
    """Wait until the st.metric labelled `label` shows an integer above `n`; that integer. A live loop's counter
    (the training page's steps, the toy's iterations) moves on its own, so the test polls it as a person watches."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if (value := metric_int(page, label)) > n:
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"{label!r} stayed at {metric_int(page, label)} (<= {n}) for {timeout:.0f} s")


# Records, inside the page, every time the metric's visible value changes: [(ms, text), ...].
# Polling every 25 ms in the browser measures what a student sees, independent of Python timing.
_PROBE_JS = """([label, key]) => {
  const read = () => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const l = m.querySelector('[data-testid="stMetricLabel"]');
      if (l && l.innerText.trim() === label) {
        const v = m.querySelector('[data-testid="stMetricValue"]');
        return v ? v.innerText.trim() : null;
      }
    }
    return null;
  };
  window[key] = [[performance.now(), read()]];
  setInterval(() => {
    const v = read(), log = window[key];
    if (v !== log[log.length - 1][1]) log.push([performance.now(), v]);
  }, 25);
}"""


def install_change_probe(page, label: str, key: str = "__changes") -> None:
    page.evaluate(_PROBE_JS, [label, key])


def read_change_probe(page, key: str = "__changes") -> list[tuple[float, int]]:
    """[(seconds, value)] for every visible change, values parsed as integers."""
    out = []
    for ms, text in page.evaluate(f"window['{key}']"):
        digits = re.sub(r"[^0-9]", "", text or "")
        out.append((ms / 1000.0, int(digits) if digits else 0))
    return out
