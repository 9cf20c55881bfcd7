"""The translator's check: for each language, the keys it lacks, the keys English does not have,
the values still identical to English, and broken placeholders.

    python -m ui.locale_check          # every language; exit 1 if any has missing keys or broken placeholders
    python -m ui.locale_check uk fa    # just these

"Untranslated" lists values equal to English that contain a word; some are right as they are
(a model name, a formula), so they are reported, not failed.
"""
import json
import re
import string
import sys

from .i18n import DEFAULT, LOCALES, _table, languages

WORD = re.compile(r"[A-Za-z]{4,}")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def placeholders(text: str) -> list[tuple]:
    """(name, conversion, format spec) of each {placeholder}, sorted; None if the template does not parse."""
    try:
        return sorted((n, c, s) for _, n, s, c in string.Formatter().parse(text) if n is not None)
    except ValueError:
        return None


def report(lang: str) -> dict:
    """{'missing': [...], 'extra': [...], 'untranslated': [...], 'placeholders': [...]} for one language."""
    english = {k: v for k, v in _table(DEFAULT).items() if not k.startswith("_")}
    own = _table(DEFAULT) if lang == DEFAULT else json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    own = {k: v for k, v in own.items() if not k.startswith("_")}
    return {
        "missing": sorted(set(english) - set(own)),
        "extra": sorted(set(own) - set(english)),
        "untranslated": sorted(k for k in set(own) & set(english)
                               if lang != DEFAULT and own[k] == english[k] and WORD.search(PLACEHOLDER.sub("", english[k]))),
        "placeholders": sorted(k for k in set(own) & set(english)
                               if placeholders(own[k]) != placeholders(english[k])),
    }


def main(argv=None) -> int:
    langs = (argv if argv is not None else sys.argv[1:]) or [lang for lang in languages() if lang != DEFAULT]
    failed = False
    for lang in langs:
        r = report(lang)
        failed |= bool(r["missing"] or r["placeholders"])
        counts = ", ".join(f"{len(v)} {k}" for k, v in r.items())
        print(f"{lang}: {counts}")
        for kind, keys in r.items():
            for key in keys:
                print(f"  {kind}: {key}")
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
