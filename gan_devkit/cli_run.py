"""Run `python -m gan_core ...` for the CLI tests: in a fresh process, as a user does, or in this one.

A fresh interpreter spends 2-3 s of a 2-core machine importing torch before the CLI parses its first flag,
and the suite runs the CLI some fifty times. So most calls run `gan_core.cli.main` here, as the interpreter
would run it: stdout and stderr captured, `sys.exit`'s code (a message goes to stderr, as Python prints it),
an uncaught exception's traceback on stderr with exit code 1, in the given folder, on the CPU. `fresh=True`
runs the real `python -m gan_core` for the tests whose point is the process itself (the module's entry
point, what reaches a terminal when it fails).
"""
import contextlib
import io
import os
import subprocess
import sys
import traceback
import warnings

ENV = {**os.environ, "GAN_DEVICE": "cpu"}


def cli(*args, cwd, check=True, fresh=False) -> subprocess.CompletedProcess:
    argv = list(map(str, args))
    r = _subprocess(argv, cwd) if fresh else _in_process(argv, cwd)
    if check and r.returncode:
        raise AssertionError(f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def _subprocess(argv: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_core", *argv], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)


def _in_process(argv: list[str], cwd) -> subprocess.CompletedProcess:
    import torch

    from gan_core.cli import main
    out, err = io.StringIO(), io.StringIO()
    here, device, threads = os.getcwd(), os.environ.get("GAN_DEVICE"), torch.get_num_threads()
    os.environ["GAN_DEVICE"] = "cpu"
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = _exit_code(main, argv)
    finally:
        os.chdir(here)
        if device is None:
            os.environ.pop("GAN_DEVICE", None)
        else:
            os.environ["GAN_DEVICE"] = device
        torch.set_num_threads(threads)
    return subprocess.CompletedProcess([sys.executable, "-m", "gan_core", *argv], code, out.getvalue(), err.getvalue())


def _exit_code(main, argv: list[str]) -> int:
    """What the interpreter would exit with, printing to stderr what it would print there (warnings too,
    under Python's default filters, where pytest would otherwise collect them)."""
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)  # in front of "default", as Python's own list has them
        warnings.showwarning = _print_warning
        return _run(main, argv)


def _print_warning(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _run(main, argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001 - the interpreter prints the traceback and exits 1
        traceback.print_exc()
        return 1
    return 0
