"""A Hugging Face cache laid out by hand, so tests load "Hub repos" through huggingface_hub's own
code (offline mode, real cache lookups, real revisions) without a network and without mocks."""
import hashlib
import os
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def populate_cache(cache: Path, repo_id: str, folder: Path, commit: str = COMMIT, refs=("main",)) -> Path:
    """Lay `folder` out as the Hub's cache does: blobs/<sha256>, snapshots/<commit>/<file> -> blob, refs/<name>."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snap = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    snap.mkdir(parents=True, exist_ok=True)
    for f in sorted(folder.iterdir()):
        if f.is_file():
            data = f.read_bytes()
            blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
            blob.write_bytes(data)
            (snap / f.name).symlink_to(os.path.relpath(blob, snap))
    (repo / "refs").mkdir(exist_ok=True)
    for ref in refs:
        (repo / "refs" / ref).write_text(commit)
    return snap


def go_offline(monkeypatch, cache: Path) -> None:
    """A page test's Hub: offline, an empty cache at `cache`, no face-model repo from the environment, so
    the pages load their bundled weights as in a classroom without a network."""
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    for name in ("GAN_FACE_DCGAN_REPO", "GAN_FACE_WGAN_REPO"):
        monkeypatch.delenv(name, raising=False)
