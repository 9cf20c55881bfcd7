"""gan_core.source_text: a module's functions as written, read from its file without importing it."""
import inspect
import sys

import pytest

from gan_core.source_text import function_sources


def test_each_named_function_is_its_source_as_written_in_the_order_asked(tmp_path, monkeypatch):
    (tmp_path / "lesson_mod.py").write_text('''import functools


def first(x):
    """one"""
    return x + 1


@functools.lru_cache(maxsize=1)
@staticmethod
def cached():
    return 2


class Box:
    def first(self):
        return 3
''')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert function_sources("lesson_mod", ["cached", "first"]) == [
        "@functools.lru_cache(maxsize=1)\n@staticmethod\ndef cached():\n    return 2",  # decorators included
        'def first(x):\n    """one"""\n    return x + 1']  # the top-level function, not the method
    assert "lesson_mod" not in sys.modules  # read, not imported
    with pytest.raises(KeyError):
        function_sources("lesson_mod", ["Box"])  # a class is not a function


def test_the_losses_the_page_shows_are_their_live_source():
    from gan_core import losses
    names = ["wgan_d_loss", "gradient_penalty"]
    assert function_sources("gan_core.losses", names) == [inspect.getsource(getattr(losses, n)).rstrip("\n")
                                                          for n in names]


def test_a_module_that_is_not_there_or_has_no_file_is_refused(tmp_path, monkeypatch):
    with pytest.raises(ModuleNotFoundError, match=r"^gan_core\.no_such_module$"):  # named
        function_sources("gan_core.no_such_module", ["f"])
    (tmp_path / "only_a_folder").mkdir()  # a namespace package: found, but no file to read
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError):
        function_sources("only_a_folder", ["f"])
