"""A Hugging Face Hub on 127.0.0.1, so tests reach the online path (model_info, snapshot_download,
hf_hub_download) through huggingface_hub's own HTTP code, its own error classes and its own cache.

It serves only what gan_core.hub asks for, the way the Hub answers it:
- `GET /api/models/{repo}[/revision/{rev}]`: id, sha and siblings; sizes only with `?blobs=True`
  (files_metadata), as on the Hub, so a size check that forgets to ask them sees none;
- `GET /api/models/{repo}/tree/{rev}`: the file list snapshot_download filters by allow_patterns;
- `HEAD|GET /{repo}/resolve/{rev}/{file}`: X-Repo-Commit, ETag (git sha1; sha256 in X-Linked-Etag and
  X-Linked-Size for safetensors, the Hub's LFS files), Content-Length, then the bytes;
- errors with the Hub's status and X-Error-Code: RepoNotFound (404), RevisionNotFound (404),
  EntryNotFound (404), GatedRepo (401/403), or any status a repo is told to fail with (500);
  a repo can also be told to wait before answering (a network gone quiet).

And what `HfApi.create_repo` + `upload_folder` send (the push command), with `write_token` as the only
token that may write (any other: 401, as the Hub answers a bad token):
- `POST /api/repos/create`: a new empty repo, private if asked (409 if it exists, which exist_ok accepts);
- `POST /api/validate-yaml`: the model card's metadata, always valid here;
- `POST /api/models/{repo}/preupload/{rev}`: every file "regular" (its bytes go inline in the commit),
  so huggingface_hub's LFS and Xet uploads are not exercised; an unchanged file's oid, so it is skipped;
- `POST /api/models/{repo}/branch/{branch}`: a new branch (409 if it exists). Here a branch is one more
  name for the repo's one set of files;
- `POST /api/models/{repo}/commit/{rev}`: the NDJSON commit; its files replace the repo's, and the
  repo's commit becomes a new sha.

Every request is logged in `requests`, so a test can tell what was asked, and that a refusal came
before any file was fetched. `point_hub_at` aims huggingface_hub at it in-process (see there why).
"""
import base64
import hashlib
import importlib.util
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

COMMIT = "feedc0de" * 5
GATED = (401, "GatedRepo")  # the Hub's answer to an anonymous visitor; 403 to a logged-in one not yet admitted
SERVER_ERROR = (500, None)


@dataclass
class FakeRepo:
    """One repo: `files` are served with their bytes; `listed` are only in the file list (name -> size,
    None: no size given), for a repo whose metadata alone must be enough to refuse it."""
    files: dict[str, bytes] = field(default_factory=dict)
    listed: dict[str, int | None] = field(default_factory=dict)
    revisions: tuple[str, ...] = ("main",)
    commit: str = COMMIT
    error: tuple[int, str | None] | None = None  # every request to this repo fails so (GATED, SERVER_ERROR)
    error_message: str = ""
    delay: float = 0.0  # seconds before any answer: a network that has gone quiet
    private: bool = False  # as created (huggingface_hub 1.x sends "private", 2.x "visibility")

    def sizes(self) -> dict[str, int | None]:
        return {**self.listed, **{name: len(data) for name, data in self.files.items()}}


def _lfs(name: str) -> bool:
    return name.endswith(".safetensors")


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class FakeHub:
    """The server: add repos, start it (or use it as a context manager), read `requests` afterwards."""

    def __init__(self, write_token: str | None = None):
        self.repos: dict[str, FakeRepo] = {}
        self.write_token = write_token  # None: nothing may be written
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, query)
        self._server: ThreadingHTTPServer | None = None

    def add(self, repo_id: str, folder: Path | None = None, **kw) -> FakeRepo:
        """A repo with the files of `folder` (e.g. one written by gan_core.hub.save_model), plus `kw`."""
        files = {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()} if folder else {}
        repo = self.repos[repo_id] = FakeRepo(files={**files, **kw.pop("files", {})}, **kw)
        return repo

    def repo_requests(self) -> list[tuple[str, str, dict]]:
        """The requests about repos (huggingface_hub also asks, once a process, for its agent list)."""
        return [r for r in self.requests if _API.match(r[1]) or _RESOLVE.match(r[1])]

    def file_requests(self) -> list[tuple[str, str]]:
        """(method, file name) of every HEAD/GET of a file."""
        return [(m, p.split("/resolve/", 1)[1].split("/", 1)[1]) for m, p, _ in self.requests if "/resolve/" in p]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        hub = self

        class Handler(_Handler):
            fake = hub
        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.02,), name="fake-hub", daemon=True).start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        from huggingface_hub.utils import close_session
        close_session()  # its pooled connections point at a port that is gone

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a delayed answer still sleeping does not hold up close()

    def handle_error(self, request, client_address):  # a client that gave up waiting is no error here
        pass


_API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/(?P<kind>revision|tree)/(?P<rev>[^/]+))?/?$")
_WRITE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/(?P<kind>preupload|commit|branch)/(?P<rev>[^/]+)$")
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub

    def log_message(self, *args):  # quiet: the test reads `requests`
        pass

    def do_HEAD(self):
        self._answer(body=False)

    def do_GET(self):
        self._answer(body=True)

    def do_POST(self):
        path, _ = self._logged()
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path == "/api/validate-yaml":
            return self._json({"errors": [], "warnings": []}, True)
        if self.fake.write_token is None or self.headers.get("Authorization") != f"Bearer {self.fake.write_token}":
            return self._error(401, None, "Invalid credentials in Authorization header", True)
        if path == "/api/repos/create":
            body = json.loads(data)
            repo_id = f"{body['organization']}/{body['name']}"
            url = {"url": f"{self.fake.url}/{repo_id}"}  # the Hub names the repo in its 409 too
            if repo_id in self.fake.repos:
                return self._error(409, None, "You already created this model repo", True, body_extra=url)
            self.fake.repos[repo_id] = FakeRepo(private=body.get("private") is True or body.get("visibility") == "private")
            return self._json(url, True)
        if (m := _WRITE.match(path)) is None:
            return self._send(404, b"", {}, True)
        if m["kind"] == "branch":
            return self._branch(m["repo"], m["rev"])
        if (repo := self._repo(m["repo"], m["rev"], True)) is not None:
            (self._preupload if m["kind"] == "preupload" else self._commit)(m["repo"], repo, data)

    def _branch(self, repo_id: str, branch: str):
        if (repo := self._repo(repo_id, "main", True)) is None:
            return
        if branch in repo.revisions:
            return self._error(409, None, f"Reference already exists: refs/heads/{branch}", True)
        repo.revisions += (branch,)
        self._json({}, True)

    def _preupload(self, repo_id: str, repo: FakeRepo, data: bytes):
        files = json.loads(data)["files"]
        self._json({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                               "oid": _git_oid(repo.files[f["path"]]) if f["path"] in repo.files else None}
                              for f in files]}, True)

    def _commit(self, repo_id: str, repo: FakeRepo, data: bytes):
        lines = [json.loads(line) for line in data.splitlines() if line.strip()]
        if any(line["key"] not in ("header", "file") for line in lines):
            return self._error(422, None, "only regular files are committed here", True)
        for line in lines[1:]:
            repo.files[line["value"]["path"]] = base64.b64decode(line["value"]["content"])
        repo.commit = hashlib.sha1(b"".join(repo.files[name] for name in sorted(repo.files))).hexdigest()
        self._json({"commitUrl": f"{self.fake.url}/{repo_id}/commit/{repo.commit}", "commitOid": repo.commit}, True)

    def _logged(self) -> tuple[str, dict]:
        """This request's path and query, logged in `requests`."""
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.fake.requests.append((self.command, path, query))
        return path, query

    def _answer(self, body: bool):
        path, query = self._logged()
        if m := _API.match(path):
            return self._api(m["repo"], m["kind"] or "revision", m["rev"] or "main", query, body)
        if m := _RESOLVE.match(path):
            return self._resolve(m["repo"], m["rev"], m["file"], body)
        self._send(404, b"", {}, body)

    def _repo(self, repo_id: str, rev: str, body: bool) -> FakeRepo | None:
        """The repo at `rev`, or None once the Hub's error for it has been sent."""
        repo = self.fake.repos.get(repo_id)
        time.sleep(repo.delay if repo else 0)
        if repo is None:
            self._error(404, "RepoNotFound", "Repository not found", body)
        elif repo.error is not None:
            self._error(*repo.error, repo.error_message or "error", body)
        elif rev not in repo.revisions and rev != repo.commit:
            self._error(404, "RevisionNotFound", "Invalid rev id: " + rev, body)
        else:
            return repo
        return None

    def _api(self, repo_id: str, kind: str, rev: str, query: dict, body: bool):
        if (repo := self._repo(repo_id, rev, body)) is None:
            return
        if kind == "tree":
            tree = [{"type": "file", "path": name, "oid": _git_oid(repo.files.get(name, b"")), "size": size or 0,
                     **({"lfs": {"oid": hashlib.sha256(repo.files.get(name, b"")).hexdigest(), "size": size or 0,
                                 "pointerSize": 134}} if _lfs(name) else {})}
                    for name, size in repo.sizes().items()]
            return self._json(tree, body)
        sized = query.get("blobs", "").lower() == "true"
        siblings = [{"rfilename": name, **({"size": size} if sized and size is not None else {})}
                    for name, size in repo.sizes().items()]
        self._json({"id": repo_id, "modelId": repo_id, "sha": repo.commit, "private": repo.private,
                    "siblings": siblings}, body)

    def _resolve(self, repo_id: str, rev: str, name: str, body: bool):
        if (repo := self._repo(repo_id, rev, body)) is None:
            return
        if name not in repo.files:
            return self._error(404, "EntryNotFound", "Entry not found", body, {"X-Repo-Commit": repo.commit})
        data = repo.files[name]
        headers = {"X-Repo-Commit": repo.commit, "ETag": f'"{_git_oid(data)}"'}
        if _lfs(name):
            sha256 = hashlib.sha256(data).hexdigest()
            headers.update({"X-Linked-Etag": f'"{sha256}"', "X-Linked-Size": str(len(data))})
        self._send(200, data, headers, body)

    def _json(self, obj, body: bool):
        self._send(200, json.dumps(obj).encode(), {"Content-Type": "application/json"}, body)

    def _error(self, status: int, code: str | None, message: str, body: bool, extra: dict | None = None,
               body_extra: dict | None = None):
        headers = {"Content-Type": "application/json", "X-Error-Message": message, **(extra or {})}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, json.dumps({"error": message, **(body_extra or {})}).encode(), headers, body)

    def _send(self, status: int, data: bytes, headers: dict, body: bool):
        self.send_response(status)
        for k, v in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(data)


def point_hub_at(monkeypatch, url: str, cache: Path) -> None:
    """Aim huggingface_hub at `url`, online, with its cache in `cache`, for one test.

    In-process, not a subprocess with HF_ENDPOINT: mutmut runs each mutant's tests in its own process
    (a fresh interpreter would cost seconds of imports a test), and an in-process call is what the
    app makes. huggingface_hub computes ENDPOINT and what derives from it (the resolve URL template,
    the trusted hosts) once, at import; every call reads them from `constants` at call time. So
    constants.py is run twice more, with HF_ENDPOINT set to `url` and to the default, and every value
    that differs is patched: a constant a later huggingface_hub derives from HF_ENDPOINT is patched
    too, with no list here to keep up to date."""
    from huggingface_hub import constants
    from huggingface_hub.utils import close_session

    for name in ("HUGGINGFACE_CO_STAGING", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    ours, default = _constants_with(monkeypatch, url), _constants_with(monkeypatch, constants._HF_DEFAULT_ENDPOINT)
    derived = {k: v for k, v in ours.items() if not callable(v) and default.get(k) != v}
    assert derived.get("ENDPOINT") == url.rstrip("/"), derived  # (staging mode would ignore HF_ENDPOINT)
    for name, value in derived.items():
        monkeypatch.setattr(constants, name, value)
    monkeypatch.setenv("HF_ENDPOINT", url)  # for any code that reads the variable itself
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    monkeypatch.setenv("NO_PROXY", no_proxy)  # a proxy from the environment must not carry local calls
    close_session()  # the shared client is rebuilt, reading NO_PROXY


def _constants_with(monkeypatch, endpoint: str) -> dict:
    """huggingface_hub.constants' values as its code computes them with HF_ENDPOINT=endpoint (not imported)."""
    spec = importlib.util.find_spec("huggingface_hub.constants")
    module = importlib.util.module_from_spec(spec)
    with monkeypatch.context() as env:
        env.setenv("HF_ENDPOINT", endpoint)
        spec.loader.exec_module(module)
    return {k: v for k, v in vars(module).items() if not k.startswith("__")}
