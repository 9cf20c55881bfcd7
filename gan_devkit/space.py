"""The Space's run-time environment, read from the Dockerfile: what a bench or check runs the server
with, so that it measures the Space as built (GOMP_SPINCOUNT, MALLOC_ARENA_MAX, GAN_PUBLIC, ...).
Standard library only: scripts/check_space.sh calls it before any package is installed.

    python -m gan_devkit.space env     # KEY=VALUE lines
"""
import re
import shlex
import sys
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parent.parent / "Dockerfile"
BUILD_ONLY = ("PIP_", "HOME=", "PATH=")  # matter while building the image, or are the container's own


def dockerfile_env(path: Path = DOCKERFILE) -> dict[str, str]:
    """The Dockerfile's ENV settings that matter at run time, in order."""
    text = re.sub(r"\\\n", " ", "".join(line for line in open(path) if not line.lstrip().startswith("#")))
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for kv in shlex.split(line[4:]):
                if "=" in kv and not kv.startswith(BUILD_ONLY):
                    key, value = kv.split("=", 1)
                    env[key] = value
    return env


if __name__ == "__main__" and sys.argv[1:] == ["env"]:
    print("\n".join(f"{k}={v}" for k, v in dockerfile_env().items()))
