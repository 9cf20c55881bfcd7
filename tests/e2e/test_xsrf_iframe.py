"""Can XSRF protection stay on when the app runs in a cross-site iframe (the Hugging Face Space case)?

The Space shows the app (https://*.hf.space) inside an iframe on https://huggingface.co: a different
*site*. Streamlit's double-submit XSRF check needs its `_streamlit_xsrf` cookie in the frame (the
frontend reads it with JavaScript and sends it back as the X-Xsrftoken header). Streamlit 1.67 has
`server.xsrfCookieSameSite`; with "none" the cookie is `SameSite=None; Secure`, so the app must be
served over HTTPS.

Here, locally: the app on https://127.0.0.1:P (self-signed certificate, XSRF protection on), framed by
an outer page on https://localhost:Q. localhost and 127.0.0.1 are different sites to the browser, as
huggingface.co and hf.space are. Each case uploads a PNG on the style page inside the frame, for one
cookie mode and one browser cookie policy:

* "3pc-allowed": a regular Chromium profile with third-party cookies allowed
  (profile.cookie_controls_mode=0, "Allow third-party cookies");
* "default": what Debian's Chromium does out of the box, in the off-the-record context Playwright
  (and tests/e2e/conftest.py) uses. It blocks third-party cookies: an unpartitioned cookie set in a
  cross-site frame is refused with the reason "UserPreferences", so even SameSite=None is dropped.
  (A fresh regular profile of this build blocks them too: cookie_controls_mode defaults to 1.)

Outcomes this test pins down:

* none + 3pc-allowed: the upload works with XSRF protection on;
* none + default:     403, as today: SameSite=None does not help a browser that blocks 3rd-party cookies;
* lax  + either:      403 (the baseline; proves the setup is cross-site: Lax is never set in the frame);
* every case: a tokenless PUT to the upload route is refused with 403 (protection really on).

Screenshots: artifacts/screenshots/xsrf-iframe-<mode>-<cookies>.png (outer page, frame included).
"""
from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from functools import partial

import numpy as np
import pytest
from PIL import Image

from gan_devkit import browser as harness

pytestmark = pytest.mark.e2e

EN = json.loads((harness.ROOT / "locales" / "en.json").read_text(encoding="utf-8"))
XSRF_COOKIE = "_streamlit_xsrf"
UPLOAD_ROUTE = "/_stcore/upload_file"  # streamlit/web/server/starlette/starlette_routes.py: PUT/DELETE + _check_xsrf
START_TIMEOUT = 60   # seconds for one server to answer /_stcore/health
UI_TIMEOUT_MS = 45_000
ALLOW_3PC = {"profile": {"cookie_controls_mode": 0}}   # chrome://settings/cookies: "Allow third-party cookies"

if not shutil.which("openssl"):
    pytestmark = [pytestmark, pytest.mark.skip(reason="openssl not found (needed for a self-signed certificate)")]


def xsrf_flags(mode: str, cert, key) -> list[str]:
    """The `streamlit run` flags under test (on top of harness.streamlit_cmd's port/address/headless)."""
    return ["--server.sslCertFile", str(cert), "--server.sslKeyFile", str(key),
            "--server.enableXsrfProtection", "true", "--server.xsrfCookieSameSite", mode]


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=30)
    return cert, key


@pytest.fixture(scope="module")
def small_png(tmp_path_factory):
    y, x = np.mgrid[0:96, 0:128]
    rgb = np.stack([x * 2, y * 2, (x + y) % 256], -1).astype(np.uint8)
    path = tmp_path_factory.mktemp("img") / "iframe upload.png"
    Image.fromarray(rgb).save(path)
    return path


class _Apps:
    """One HTTPS app at a time (2 cores): app(mode) reuses the running server or replaces it."""

    def __init__(self, cert, key):
        self.cert, self.key, self.mode, self.proc, self.url = cert, key, None, None, None

    def __call__(self, mode: str) -> str:
        if mode != self.mode:
            self.close()
            harness.ARTIFACTS.mkdir(exist_ok=True)
            self.proc, url = harness.start_streamlit_with_args(
                xsrf_flags(mode, self.cert, self.key), scheme="https",
                log_path=harness.ARTIFACTS / f"xsrf-iframe-{mode}.log")
            harness.wait_health_insecure(url, self.proc, timeout=START_TIMEOUT)
            self.mode, self.url = mode, url
        return self.url

    def close(self):
        if self.proc is not None:
            harness.stop(self.proc)
        self.mode = self.proc = self.url = None


@pytest.fixture(scope="module")
def app(tls_cert):
    apps = _Apps(*tls_cert)
    try:
        yield apps
    finally:
        apps.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_outer_page(directory, app_url: str, cert, key):
    """https://localhost:Q/ (the same self-signed certificate) with an index.html that frames
    app_url; returns (server, url). HTTPS on both sides, as huggingface.co and hf.space are, so only
    the site differs, not the scheme."""
    (directory / "index.html").write_text(
        "<!doctype html><html><head><title>outer site</title></head>"
        "<body style='margin:0'><p id=outer>outer page on localhost (another site)</p>"
        f"<iframe src='{app_url}' width=1300 height=1800></iframe></body></html>", encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(directory)))
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(str(cert), str(key))
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"https://localhost:{server.server_address[1]}/"


def open_context(playwright, cookies: str, tmp_path):
    """(context, close) for the browser cookie policy under test."""
    kw = {"ignore_https_errors": True, "viewport": {"width": 1340, "height": 1900}, "locale": "en-US"}
    if cookies == "default":     # what the e2e fixtures use: launch + new_context (off the record)
        browser = harness.launch_chromium(playwright)
        return browser.new_context(**kw), browser.close
    assert cookies == "3pc-allowed"
    ctx = harness.launch_chromium_profile(playwright, tmp_path / "profile", ALLOW_3PC, **kw)
    return ctx, ctx.close


# --- what happens in the frame -------------------------------------------------------------------

# Streamlit 1.67 marks a failed upload's file chip aria-invalid, with the message in a visually
# hidden role=alert span ("Error: AxiosError: Request failed with status code 403"); the visible
# cue is the red chip, and the message shows as a tooltip on hover.
_OUTCOME_JS = """([name]) => {
  const up = [...document.querySelectorAll('[data-testid="stFileUploader"]')];
  const bad = up.flatMap(u => [...u.querySelectorAll('[data-testid="stFileChip"][aria-invalid="true"]')]);
  const alerts = up.flatMap(u => [...u.querySelectorAll('[role="alert"]')]).map(a => a.textContent.trim());
  const text = up.map(u => u.innerText).join('\\n');
  if (bad.length || alerts.some(Boolean) || /403|AxiosError/.test(text))
    return 'failed: ' + (alerts.filter(Boolean).join(' | ') || text.replace(/\\s+/g, ' '));
  const after = [...document.querySelectorAll('[data-testid="stImage"]')]
      .find(e => e.innerText.includes(AFTER_CAPTION));
  const img = after && after.querySelector('img');
  if (text.includes(name) && img && img.complete && img.naturalWidth > 0) return 'ok';
  return null;
}""".replace("AFTER_CAPTION", json.dumps(EN["style.after"]))


def blocked_cookie_reasons(context, frame) -> list[str]:
    """Ask the frame to fetch /_stcore/health (which sets the XSRF cookie) and return why Chromium
    refused to store that cookie, from DevTools (e.g. ["UserPreferences"], ["SchemefulSameSiteLax"]),
    [] if it was stored."""
    cdp = context.new_cdp_session(frame)   # the cross-site frame is its own (out-of-process) target
    seen: list[dict] = []                  # ExtraInfo events of responses that set the XSRF cookie

    def on_extra(event):
        if any(XSRF_COOKIE in str(v) for k, v in event.get("headers", {}).items() if k.lower() == "set-cookie"):
            seen.append(event)
    cdp.on("Network.responseReceivedExtraInfo", on_extra)
    cdp.send("Network.enable")
    frame.evaluate("() => fetch('/_stcore/health', {cache: 'no-store'}).then(r => r.text())")
    for _ in range(50):                    # the ExtraInfo event may trail the response a little
        if seen:
            break
        frame.wait_for_timeout(100)
    cdp.detach()
    assert seen, "DevTools reported no Set-Cookie for the XSRF cookie"
    return sorted({r for e in seen for b in e.get("blockedCookies", [])
                   if XSRF_COOKIE in b.get("cookieLine", "") for r in b.get("blockedReasons", [])})


def upload_in_frame(page, outer_url: str, app_origin: str, png) -> dict:
    """Open the outer page, upload `png` on the style page inside the frame; what happened."""
    page.goto(outer_url, wait_until="domcontentloaded", timeout=UI_TIMEOUT_MS)
    frame = page.wait_for_selector("iframe", timeout=UI_TIMEOUT_MS).content_frame()
    assert frame is not None
    frame.wait_for_url(lambda u: u.startswith(app_origin), wait_until="domcontentloaded", timeout=UI_TIMEOUT_MS)
    # the harness helpers take a Page but only use what a Frame has too (locator, wait_for_*)
    harness.wait_for_run(frame, UI_TIMEOUT_MS)
    frame.wait_for_selector('[data-testid="stMain"] h1', timeout=UI_TIMEOUT_MS)
    harness.choose_selectbox(frame, EN["style.content"], EN["style.upload_option"], scope='[data-testid="stMain"]')
    frame.get_by_text(EN["style.upload_hint"]).wait_for(timeout=UI_TIMEOUT_MS)
    frame.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(png))
    outcome = frame.wait_for_function(_OUTCOME_JS, arg=[png.name], timeout=UI_TIMEOUT_MS).json_value()
    harness.wait_for_run(frame, UI_TIMEOUT_MS)
    return {
        "outcome": outcome,
        "top_level_url": page.url,
        "document_cookie_in_frame": frame.evaluate("() => document.cookie"),
        "stored_cookies": {c["name"]: c for c in page.context.cookies(app_origin)},
        "exceptions": [e.inner_text() for e in frame.locator('[data-testid="stException"]').all()],
        "blocked_reasons": blocked_cookie_reasons(page.context, frame),
    }


def put_upload(app_origin: str, headers: dict | None = None) -> int:
    """PUT a tiny multipart file to the upload route of a made-up session; the HTTP status."""
    boundary = "xsrfcheckboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\nnot really a png\r\n--{boundary}--\r\n").encode()
    req = urllib.request.Request(
        f"{app_origin}{UPLOAD_ROUTE}/no-such-session/no-such-file", data=body, method="PUT",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10, context=harness.unverified_ssl_context()) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


# --- the test --------------------------------------------------------------------------------------

CASES = [  # (cookie mode, browser cookie policy, upload expected to work)
    ("none", "3pc-allowed", True),
    ("none", "default", False),
    ("lax", "3pc-allowed", False),
    ("lax", "default", False),
]


@pytest.mark.parametrize("mode,cookies,works", CASES, ids=[f"{m}-{c}" for m, c, _ in CASES])
def test_upload_in_cross_site_iframe_with_xsrf_on(mode, cookies, works, app, tls_cert, playwright, small_png,
                                                  tmp_path):
    t0 = time.perf_counter()
    app_origin = app(mode)
    outer, outer_url = serve_outer_page(tmp_path, f"{app_origin}/style?lang=en", *tls_cert)
    ctx, close = open_context(playwright, cookies, tmp_path)
    try:
        ctx.set_default_timeout(UI_TIMEOUT_MS)
        page = ctx.new_page()
        try:
            seen = upload_in_frame(page, outer_url, app_origin, small_png)
        finally:
            harness.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            err = page.frame_locator("iframe").locator('[data-testid="stTooltipErrorHoverTarget"]')
            if err.count():   # show the upload error's tooltip in the screenshot
                err.first.hover()
                page.wait_for_timeout(600)
            page.screenshot(path=str(harness.SCREENSHOTS / f"xsrf-iframe-{mode}-{cookies}.png"), full_page=True)
        tokenless = put_upload(app_origin)
        stored = {k: (v["sameSite"], v["secure"]) for k, v in seen["stored_cookies"].items()}
        print(f"\n[{mode}/{cookies}] {time.perf_counter() - t0:.1f} s  outcome={seen['outcome']!r}\n"
              f"  cookie stored for {app_origin}: {stored}  refused because: {seen['blocked_reasons']}\n"
              f"  tokenless PUT {UPLOAD_ROUTE}/...: HTTP {tokenless}")

        # the frame really is cross-site: its top-level document is on another site
        assert seen["top_level_url"].startswith("https://localhost:") and app_origin.startswith("https://127.0.0.1:")
        assert not seen["exceptions"], seen["exceptions"]
        assert tokenless == 403, "XSRF protection is not on: an upload without the token was not refused"

        if works:
            assert seen["outcome"] == "ok", seen["outcome"]
            cookie = seen["stored_cookies"].get(XSRF_COOKIE)
            assert cookie and cookie["sameSite"] == "None" and cookie["secure"], seen["stored_cookies"]
            assert not seen["blocked_reasons"], seen["blocked_reasons"]
            # positive control: the browser's token passes _check_xsrf, then 400 (no such session)
            with_token = put_upload(app_origin, {"Cookie": f"{XSRF_COOKIE}={cookie['value']}",
                                                 "X-Xsrftoken": cookie["value"]})
            print(f"  PUT with the browser's token: HTTP {with_token}")
            assert with_token == 400, with_token
        else:
            assert seen["outcome"].startswith("failed") and "403" in seen["outcome"], (
                f"expected a 403 upload error in the cross-site iframe ({mode}/{cookies}), got {seen['outcome']!r}; "
                f"cookies: {seen['stored_cookies']}")
            assert XSRF_COOKIE not in seen["stored_cookies"], seen["stored_cookies"]
            assert seen["document_cookie_in_frame"] == ""
            # why the browser dropped it: SameSite for "lax"; the third-party-cookie setting for "none"
            assert seen["blocked_reasons"], "the cookie was not stored, yet DevTools reports no reason"
            if mode == "none":
                assert seen["blocked_reasons"] == ["UserPreferences"], seen["blocked_reasons"]
            elif cookies == "3pc-allowed":   # Chromium names it SchemefulSameSiteLax (schemeful same-site)
                assert any(r.endswith("SameSiteLax") for r in seen["blocked_reasons"]), seen["blocked_reasons"]
    finally:
        close()
        outer.shutdown()
        outer.server_close()
