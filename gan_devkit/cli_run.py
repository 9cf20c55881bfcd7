"""Run `python -m gan_core ...` in a fresh process, as a user would, for the CLI tests."""
import os
import subprocess
import sys

ENV = {**os.environ, "GAN_DEVICE": "cpu"}


def cli(*args, cwd, check=True) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "gan_core", *map(str, args)], cwd=cwd, env=ENV,
                       capture_output=True, text=True, timeout=300)
    if check and r.returncode:
        raise AssertionError(f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r
