"""A fresh server's first page without torch: the architectures page's first tab needs none, torch
loads in a background thread (ui.layout.preload_compute), and the sidebar's device badge shows once
it has loaded. On a 2-core laptop importing torch took 2.3 s of the first page's 9.3 s."""
import ast
import inspect
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core.source_text import function_sources

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "views" / "1_architectures.py"


def test_function_sources_read_the_file_as_inspect_does():
    """The loss code the page shows, without importing the module: the same text inspect.getsource
    gives for every function the page lists (decorators included), and a clear error otherwise."""
    from gan_core import losses, vae
    listed = [node.args for node in ast.walk(ast.parse(PAGE.read_text())) if isinstance(node, ast.Call)
              and getattr(node.func, "id", "") == "loss_source"]
    assert len(listed) == 4, "the page's loss listings"
    for args in listed:
        names = [a.value for a in args]
        module = vae if names == ["elbo_terms"] else losses
        assert function_sources(module.__name__, names) == [inspect.getsource(getattr(module, n)).rstrip("\n")
                                                           for n in names]
    with pytest.raises(KeyError):
        function_sources("gan_core.losses", ["no_such_loss"])
    with pytest.raises(ModuleNotFoundError):
        function_sources("gan_core.no_such_module", ["x"])


def test_function_sources_keep_decorators_and_skip_nested_names(tmp_path, monkeypatch):
    (tmp_path / "decorated_mod.py").write_text(
        "import functools\n\n\n@functools.lru_cache()\n@staticmethod\ndef f(x):\n    def g():\n"
        "        return 1\n    return x\n\n\ndef h():\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert function_sources("decorated_mod", ["f", "h"]) == [
        "@functools.lru_cache()\n@staticmethod\ndef f(x):\n    def g():\n        return 1\n    return x",
        "def h():\n    pass"]
    with pytest.raises(KeyError):
        function_sources("decorated_mod", ["g"])  # nested: not a function of the module


def test_the_first_page_imports_no_torch():
    """What app.py and the architectures page import at their top, in a fresh process: no torch. A
    page-level `import torch` (or a module that pulls it) would make the first page wait for it again."""
    modules = []
    for path in (ROOT / "app.py", PAGE):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                modules += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules += [f"{node.module}.{a.name}" if node.module in ("gan_core", "ui") else node.module
                            for a in node.names]
    assert "ui.arch_widgets" in modules and "ui.layout" in modules
    code = "import importlib, sys\nfor m in %r:\n    importlib.import_module(m)\nprint('torch' in sys.modules)" % modules
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "False", out.stdout


def badge_texts(at) -> list[str]:
    return [c.value for c in at.sidebar.caption if c.value.startswith("Device:")]


def test_the_device_badge_shows_once_torch_has_loaded(monkeypatch):
    """While the preload runs, a run of the app ends without the badge (rather than wait for torch);
    the next run after it has loaded shows it, in the sidebar."""
    from ui import layout
    release = threading.Event()
    loading = threading.Thread(target=release.wait, args=(60,), daemon=True)
    loading.start()
    monkeypatch.setattr(layout, "_preload", loading)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["lang"] = "en"
        at.run()
        assert not at.exception and badge_texts(at) == []
    finally:
        release.set()
    loading.join(10)
    at.run()
    assert not at.exception and badge_texts(at) == [f"Device: {layout._device_line()}"]


def test_the_preload_imports_torch_once_per_process():
    code = ("import sys\nfrom ui.layout import preload_compute\n"
            "first = preload_compute()\nassert preload_compute() is first\nfirst.join(120)\n"
            "print('torch' in sys.modules, 'gan_core.device' in sys.modules, first.name)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-3:] == ["True", "True", "gan-preload"], out.stdout + out.stderr
