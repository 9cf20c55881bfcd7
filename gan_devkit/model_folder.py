"""A saved model folder's config.json edited in place: what a folder from outside may ask (a setting a class
does not take, a width of 0, a size its weights do not have), for the tests of every page and loader that reads one."""
import json
from pathlib import Path


def with_config(folder: Path, **changes) -> Path:
    """`folder` with `changes` written over its config.json's keys; returns the folder."""
    path = Path(folder) / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))
    return Path(folder)
