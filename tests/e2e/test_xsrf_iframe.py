"""Can XSRF protection stay on when the app runs in a cross-site iframe (the Hugging Face Space case)?

The Space shows the app (https://*.hf.space) inside an iframe on https://huggingface.co: a different
*site*. Streamlit's double-submit XSRF check needs its `_streamlit_xsrf` cookie, which the browser only
stores/sends in a cross-site iframe when it is `SameSite=None; Secure`. Streamlit 1.67 has
`server.xsrfCookieSameSite`; with "none" it also marks the cookie Secure, so the app must be on HTTPS.

Here, locally: the app on https://127.0.0.1:P (self-signed certificate, XSRF protection on), framed by
an outer page on http://localhost:Q. localhost and 127.0.0.1 are different sites to the browser, as
huggingface.co and hf.space are. For each cookie mode we upload a PNG on the style page inside the
frame:

* "none": the upload works with XSRF protection on, and a tokenless PUT to the upload route is still
  refused with 403 (the protection is really on, not just permissive);
* "lax" (Streamlit's default, the baseline): the browser drops the cookie in the cross-site frame
  and the upload fails with 403, which is why the Dockerfile turns XSRF protection off today.

Screenshots: artifacts/screenshots/xsrf-iframe-<mode>.png (the whole outer page, frame included).
"""
from __future__ import annotations

import http.server
import json
import shutil
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
UPLOAD_ROUTE = "/_stcore/upload_file"  # streamlit/web/server/starlette/starlette_routes.py: PUT/DELETE, _check_xsrf
START_TIMEOUT = 60   # seconds for one server to answer /_stcore/health
UI_TIMEOUT_MS = 45_000

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


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = harness.launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_outer_page(directory, app_url: str):
    """http://localhost:Q/ with an index.html that frames app_url; returns (server, url)."""
    (directory / "index.html").write_text(
        "<!doctype html><html><head><title>outer site</title></head>"
        "<body style='margin:0'><p id=outer>outer page on localhost (another site)</p>"
        f"<iframe src='{app_url}' width=1300 height=1800></iframe></body></html>", encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://localhost:{server.server_address[1]}/"


# --- what happens in the frame -------------------------------------------------------------------

_OUTCOME_JS = """([name]) => {
  const up = [...document.querySelectorAll('[data-testid="stFileUploader"]')];
  const text = up.map(u => u.innerText).join('\\n');
  if (/403|AxiosError|error/i.test(text)) return 'failed: ' + text;
  const after = [...document.querySelectorAll('[data-testid="stImage"]')]
      .find(e => e.innerText.includes(%s));
  const img = after && after.querySelector('img');
  if (text.includes(name) && img && img.complete && img.naturalWidth > 0) return 'ok';
  return null;
}""" % json.dumps(EN["style.after"])


def upload_in_frame(page, outer_url: str, app_origin: str, png) -> dict:
    """Open the outer page, upload `png` on the style page inside the frame; what happened."""
    page.goto(outer_url, wait_until="domcontentloaded", timeout=UI_TIMEOUT_MS)
    page.wait_for_selector("iframe", timeout=UI_TIMEOUT_MS)
    frame = page.locator("iframe").element_handle().content_frame()
    assert frame is not None and frame.url.startswith(app_origin), frame and frame.url
    # the harness helpers take a Page, but only use what a Frame has too (locator, wait_for_*)
    harness.wait_for_run(frame, UI_TIMEOUT_MS)
    frame.wait_for_selector('[data-testid="stMain"] h1', timeout=UI_TIMEOUT_MS)
    in_frame = page.frame_locator("iframe")
    cookie_before = frame.evaluate("() => document.cookie")
    harness.choose_selectbox(frame, EN["style.content"], EN["style.upload_option"], scope='[data-testid="stMain"]')
    in_frame.get_by_text(EN["style.upload_hint"]).wait_for(timeout=UI_TIMEOUT_MS)
    in_frame.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(png))
    outcome = frame.wait_for_function(_OUTCOME_JS, arg=[png.name], timeout=UI_TIMEOUT_MS).json_value()
    harness.wait_for_run(frame, UI_TIMEOUT_MS)
    return {
        "outcome": outcome,
        "document_cookie_in_frame": cookie_before,
        "browser_cookies": {c["name"]: c for c in page.context.cookies(app_origin)},
        "exceptions": [e.inner_text() for e in in_frame.locator('[data-testid="stException"]').all()],
    }


def put_upload(app_origin: str, headers: dict | None = None) -> int:
    """PUT a tiny multipart file to the upload route of a made-up session; the HTTP status."""
    boundary = "xsrfcheckboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\nnot really a png\r\n--{boundary}--\r\n").encode()
    req = urllib.request.Request(f"{app_origin}{UPLOAD_ROUTE}/no-such-session/no-such-file", data=body,
                                 method="PUT", headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                                        **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10, context=harness.unverified_ssl_context()) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


