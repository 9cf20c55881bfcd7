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


def dockerfile_env(path: Path = DOCKERFILE, here: bool = True) -> dict[str, str]:
    """The Dockerfile's ENV settings that matter at run time, in order. here: leave out an LD_PRELOAD
    whose libraries this machine lacks (the image installs them; a machine set up without root may
    not), which the loader would otherwise report in every process the server starts."""
    text = re.sub(r"\\\n", " ", "".join(line for line in open(path) if not line.lstrip().startswith("#")))
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for kv in shlex.split(line[4:]):
                if "=" in kv and not kv.startswith(BUILD_ONLY):
                    key, value = kv.split("=", 1)
                    env[key] = value
    if here and "LD_PRELOAD" in env and not loadable(env["LD_PRELOAD"]):
        print(f"note: LD_PRELOAD={env.pop('LD_PRELOAD')} (the Dockerfile's) is not installed here; "
              "running without it", file=sys.stderr)
    return env


def loadable(preload: str) -> bool:
    """Whether the dynamic loader preloads `preload` (LD_PRELOAD's value) without complaint: asked of
    the loader itself, since a late dlopen of an allocator can fail where a preload works."""
    import subprocess
    done = subprocess.run([sys.executable, "-c", ""], env={"LD_PRELOAD": preload}, capture_output=True, text=True)
    return done.returncode == 0 and "LD_PRELOAD" not in done.stderr


if __name__ == "__main__" and sys.argv[1:] == ["env"]:
    print("\n".join(f"{k}={v}" for k, v in dockerfile_env().items()))
