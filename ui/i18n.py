"""UI text lives in locales/<lang>.json, one file per language, so translators never touch code.

Add a language by copying locales/en.json to locales/<code>.json, translating the values and
setting "_name" (its own name) and "_dir" ("ltr" or "rtl"). Missing keys fall back to English.

What gan_core tells the user arrives as a Message (code + params, see gan_core.messages); its
English templates live there, once, and are the English table's "msg.<code>" keys here, so other
languages translate them like any other key and `msg(m)` renders one in the user's language.
"""
import json
import re
from functools import lru_cache
from pathlib import Path

from gan_core.messages import ENGLISH as MESSAGES_EN
from gan_core.messages import GanError, Message, render

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DEFAULT = "en"


@lru_cache(maxsize=None)
def _table(lang: str) -> dict:
    table = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    if lang == DEFAULT:  # the engine's messages, in the English its own code holds
        table.update({f"msg.{code}": text for code, text in MESSAGES_EN.items()})
    return table


@lru_cache(maxsize=None)
def codes() -> tuple[str, ...]:
    """The codes of the locale files present, listed once per process, as the tables are read once: every
    t() asks whether its language is one, and globbing the folder each time was 14% of a 2-core server's
    busy time during a class (py-spy, docs/benchmarks.md). A new locale file needs a restart."""
    return tuple(sorted(p.stem for p in LOCALES.glob("*.json")))


def languages() -> dict[str, str]:
    """code -> the language's own name, for every locale file present."""
    return {code: _table(code).get("_name", code) for code in codes()}


def is_rtl(lang: str) -> bool:
    return _table(lang).get("_dir") == "rtl"


def translate(key: str, lang: str = DEFAULT, **fmt) -> str:
    """The text for `key` in `lang`, else English, else the key itself (so a gap is visible, not fatal)."""
    text = _table(lang).get(key) if lang in codes() else None
    if text is None:
        text = _table(DEFAULT).get(key, key)
    return text.format(**fmt) if fmt else text


def pick_language(query: str | None, browser: str | None) -> str:
    """A session's first language: `?lang=` if it names one, else the browser's (uk-UA -> uk,
    fa-IR -> fa, he-IL -> he), else English. The sidebar choice then holds for the session."""
    available = languages()
    if query in available:
        return query
    code = (browser or "").replace("_", "-").split("-")[0].lower()
    return code if code in available else DEFAULT


def current_lang() -> str:
    import streamlit as st
    return st.session_state.get("lang", DEFAULT)


def t(key: str, **fmt) -> str:
    """translate() in the language the user picked in the sidebar."""
    return translate(key, current_lang(), **fmt)


class _Isolated(str):
    """A value (a path, a repo id, a library's words) inside a right-to-left sentence, set in its own first
    strong isolate (U+2068 ... U+2069). Without it the bidi algorithm reads a path's slashes as part of the
    Hebrew around it: `/tmp/a/config.json` came out as `tmp/a/config.json/` (seen in Chromium, 2026-12-07).
    A str, so the templates' `{folder}` and `{source!r}` both keep working. Numbers stay as they are: `640x480`
    already reads left to right, and isolating its two numbers would turn it into 480x640."""

    def __format__(self, spec: str) -> str:
        return f"\u2068{format(str.__str__(self), spec)}\u2069"

    def __repr__(self) -> str:
        return f"\u2068{str.__repr__(str.__str__(self))}\u2069"


def _isolated(message: Message) -> Message:
    """`message` with each text value isolated, its nested messages' too (those are sentences, rendered in
    the page's language and direction)."""
    return Message(message.code, {
        key: _isolated(value) if isinstance(value, Message) else _Isolated(value) if isinstance(value, str) else value
        for key, value in message.params.items()})


# A value with a path's tail written after it in the template: `{folder}/config.json`.
_PATH_TAIL = re.compile(r"\{\w+(?:![rs])?\}(?:/[\w.-]+)+")


def _rtl_template(template: str | None) -> str | None:
    """The template with each `{folder}/config.json` in one isolate: the value's own isolate ends before
    `/config.json`, which the Hebrew around it would then carry to the path's other end."""
    return template and _PATH_TAIL.sub(lambda m: f"\u2068{m.group(0)}\u2069", template)


def isolate(text: str) -> str:
    """`text` (a path, a file's name, a code someone typed) for a sentence in the page's language: in a
    right-to-left one it keeps its own direction (see _Isolated)."""
    return format(_Isolated(text)) if is_rtl(current_lang()) else text


def render_message(message: Message | GanError, lang: str = DEFAULT) -> str:
    """A gan_core message (or error) in `lang`, falling back to English template by template; in a
    right-to-left language its values keep their own direction."""
    if isinstance(message, GanError):
        message = message.message
    table = _table(lang) if lang in codes() else {}
    if not is_rtl(lang):
        return render(message, table.get)
    return render(_isolated(message),
                  lambda key: _rtl_template(table.get(key) or MESSAGES_EN.get(key.removeprefix("msg."))))


def msg(message: Message | GanError) -> str:
    """render_message() in the language the user picked."""
    return render_message(message, current_lang())
