"""gan_core.env: every server setting read from the environment falls back to its default the same way."""
import math

from gan_core.env import env_number


def test_a_setting_is_its_number_where_finite_and_accepted_else_the_default(monkeypatch):
    def read(text, **kw):
        if text is None:
            monkeypatch.delenv("GAN_TEST_SETTING", raising=False)
        else:
            monkeypatch.setenv("GAN_TEST_SETTING", text)
        return env_number("GAN_TEST_SETTING", 7.0, **kw)

    assert read(None) == read("") == read("   ") == 7.0  # unset or empty
    assert read(" 2.5 ") == 2.5 and read("-3") == -3.0 and read("1e3") == 1000.0
    assert read("abc") == read("nan") == read("inf") == read("-inf") == 7.0  # not a finite number
    at_least_one = {"ok": lambda value: value >= 1}
    assert read("1", **at_least_one) == 1.0 and read("0.5", **at_least_one) == 7.0  # refused by ok: the default
    words = {"words": {"off": math.inf, "auto": -1.0}}
    assert read("OFF", **words) == math.inf and read(" Auto ", **words) == -1.0  # any case, around spaces
    assert read("4", **words) == 4.0 and read("offf", **words) == 7.0
