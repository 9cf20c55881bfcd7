"""UI text lives in locales/<lang>.json, one file per language, so translators never touch code.

Add a language by copying locales/en.json to locales/<code>.json, translating the values and
setting "_name" (its own name) and "_dir" ("ltr" or "rtl"). Missing keys fall back to English.
"""
import json
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DEFAULT = "en"


@lru_cache(maxsize=None)
def _table(lang: str) -> dict:
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def languages() -> dict[str, str]:
    """code -> the language's own name, for every locale file present."""
    return {p.stem: _table(p.stem).get("_name", p.stem) for p in sorted(LOCALES.glob("*.json"))}


def is_rtl(lang: str) -> bool:
    return _table(lang).get("_dir") == "rtl"


def translate(key: str, lang: str = DEFAULT, **fmt) -> str:
    """The text for `key` in `lang`, else English, else the key itself (so a gap is visible, not fatal)."""
    text = _table(lang).get(key) if lang in languages() else None
    if text is None:
        text = _table(DEFAULT).get(key, key)
    return text.format(**fmt) if fmt else text


def current_lang() -> str:
    import streamlit as st
    return st.session_state.get("lang", DEFAULT)


def t(key: str, **fmt) -> str:
    """translate() in the language the user picked in the sidebar."""
    return translate(key, current_lang(), **fmt)
