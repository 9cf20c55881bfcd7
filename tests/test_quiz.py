""""Check yourself": every question is complete in every language with exactly one right answer, and on
each page a right answer and a wrong one get the right feedback, the explanation and the score."""
import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from gan_devkit.english_scan import english_words
from gan_devkit.hub_cache import go_offline
from ui.i18n import LOCALES, languages, translate
from ui.quiz import QUIZ, key, n_answers

VIEWS = {"arch": "views/1_architectures.py", "train": "views/2_train.py", "latent": "views/3_latent.py",
         "style": "views/4_style.py"}
COMMON = ("quiz.title", "quiz.intro", "quiz.right", "quiz.wrong", "quiz.score", "quiz.again")


def table(lang: str) -> dict:
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def test_every_page_has_a_quiz_of_three_to_five_questions():
    assert set(QUIZ) == set(VIEWS)
    for page, view in VIEWS.items():
        assert 3 <= len(QUIZ[page]) <= 5, page
        assert f'check_yourself("{page}")' in (LOCALES.parent / view).read_text(encoding="utf-8"), view


@pytest.mark.parametrize("lang", sorted(languages()))
def test_every_question_has_all_its_keys_and_exactly_one_right_answer(lang):
    words = table(lang)
    for k in COMMON:
        assert words.get(k), (lang, k)
    expected = set()
    for page, right in QUIZ.items():
        for n, correct in enumerate(right, 1):
            count = n_answers(page, n)  # from English
            assert count >= 3, (page, n)
            assert isinstance(correct, int) and 0 <= correct < count, (page, n, correct)
            parts = ["q", "why"] + [f"a{a}" for a in range(count)]
            expected |= {key(page, n, p) for p in parts}
            texts = [words.get(key(page, n, p)) for p in parts]
            assert all(texts), (lang, page, n, [p for p, s in zip(parts, texts) if not s])
            answers = texts[2:]
            assert len(set(answers)) == count, f"two answers read the same in {lang}: {page} {n}"
    found = {k for k in words if re.match(r"quiz\.[a-z]+\.\d+\.", k)}
    assert found == expected, f"{lang}: extra {sorted(found - expected)}, missing {sorted(expected - found)}"


@pytest.mark.parametrize("lang", [lang for lang in languages() if lang != "en"])
def test_explanations_and_answers_are_translated(lang):
    """test_no_english sees the questions and answers on the pages; the explanations appear only after an
    answer, so every quiz text of the language is scanned here, and none may equal its English."""
    words, english = table(lang), table("en")
    texts = {k: v for k, v in words.items() if k.startswith("quiz.")}
    assert not english_words(list(texts.values())), english_words(list(texts.values()))
    assert not [k for k, v in texts.items() if v == english[k]]


@pytest.fixture
def offline_hub(monkeypatch, tmp_path, root):
    monkeypatch.chdir(root)
    go_offline(monkeypatch, tmp_path / "hub")


def answer(at: AppTest, page: str, n: int, choice: int) -> AppTest:
    return at.radio(key=f"quiz.{page}.{n}").set_value(choice).run()


@pytest.mark.parametrize("page,lang", [("arch", "en"), ("arch", "he"), ("train", "en"), ("latent", "uk"),
                                       ("style", "fa")])
def test_a_right_and_a_wrong_answer_get_their_feedback(root, offline_hub, page, lang):
    at = AppTest.from_file(str(root / VIEWS[page]), default_timeout=180)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, at.exception[0].message
    radios = [r for r in at.radio if r.key and r.key.startswith(f"quiz.{page}.")]
    assert len(radios) == len(QUIZ[page]) and all(r.value is None for r in radios)
    assert [r.options for r in radios][0] == [translate(key(page, 1, f"a{a}"), lang) for a in range(n_answers(page, 1))]

    right = QUIZ[page][0]
    answer(at, page, 1, right)
    why1 = translate(key(page, 1, "why"), lang)
    assert translate("quiz.right", lang) + " " + why1 in [s.value for s in at.success]
    assert not [e for e in at.error if why1 in e.value]
    assert translate("quiz.score", lang, right=1, answered=1, total=len(QUIZ[page])) in [c.value for c in at.caption]

    wrong = (QUIZ[page][1] + 1) % n_answers(page, 2)
    answer(at, page, 2, wrong)
    correct_text = translate(key(page, 2, f"a{QUIZ[page][1]}"), lang)
    expected = translate("quiz.wrong", lang, answer=correct_text) + " " + translate(key(page, 2, "why"), lang)
    assert expected in [e.value for e in at.error]
    assert translate("quiz.score", lang, right=1, answered=2, total=len(QUIZ[page])) in [c.value for c in at.caption]
    assert not at.exception

    at.button(key=f"quiz.{page}.again").click().run()  # start again: no answers, no feedback, no score
    assert all(r.value is None for r in at.radio if r.key and r.key.startswith(f"quiz.{page}."))
    assert not [s for s in at.success if why1 in s.value]
    total = len(QUIZ[page])
    scores = {translate("quiz.score", lang, right=r, answered=a, total=total) for a in range(total + 1) for r in range(a + 1)}
    assert not scores & {c.value for c in at.caption}


def test_answers_are_kept_per_session_across_pages(root, offline_hub):
    at = AppTest.from_file(str(root / "app.py"), default_timeout=180).run()
    answer(at, "arch", 3, QUIZ["arch"][2])
    at.switch_page("views/2_train.py").run()
    assert not [r for r in at.radio if r.key == "quiz.arch.3"]
    assert all(r.value is None for r in at.radio if r.key and r.key.startswith("quiz.train."))
    at.switch_page("views/1_architectures.py").run()
    assert at.radio(key="quiz.arch.3").value == QUIZ["arch"][2]
    assert translate("quiz.right") + " " + translate(key("arch", 3, "why")) in [s.value for s in at.success]
    fresh = AppTest.from_file(str(root / "app.py"), default_timeout=180).run()  # another browser session
    assert fresh.radio(key="quiz.arch.3").value is None
