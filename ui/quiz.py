""""Check yourself": a few multiple-choice questions at the bottom of each page, with instant feedback.

The words live in the locale files, one set per language: quiz.<page>.<n>.q (the question),
.a0, .a1, ... (the answers, in the order shown) and .why (the one-line explanation). Which answer is
right is not a translation matter, so it lives here, once, for every language: QUIZ below. Adding a
question is one index here plus its keys in every locale (tests/test_quiz.py checks both).

Answers are per browser session and survive switching pages (kept in st.session_state["quiz.answers"],
since Streamlit forgets a widget's value once its page is left). The quiz is a fragment, so an answer
reruns the quiz, not the page above it (the toy GAN, a training run or a Gatys optimisation go on).
"""
import streamlit as st

from .i18n import translate, t

# page -> the index of the right answer of each question, in order (question n is QUIZ[page][n - 1]).
QUIZ = {
    "arch": (1, 0, 2, 0),
    "train": (1, 2, 0, 1),
    "latent": (1, 2, 0, 1),
    "style": (0, 1, 2, 1),
}
STATE = "quiz.answers"  # {(page, n): answer index}


def key(page: str, n: int, part: str) -> str:
    """Locale key of one part of question n (1-based): "q", "a0", "a1", ..., "why"."""
    return f"quiz.{page}.{n}.{part}"


def n_answers(page: str, n: int) -> int:
    """How many answers question n has: a0, a1, ... as far as the English table goes."""
    k = 0
    while translate(key(page, n, f"a{k}")) != key(page, n, f"a{k}"):  # a missing key comes back as itself
        k += 1
    return k


def grade(page: str, n: int, answer: int | None) -> bool | None:
    """True or False for an answer to question n, None while it is unanswered."""
    return None if answer is None else answer == QUIZ[page][n - 1]


def score(page: str, answers: dict) -> tuple[int, int]:
    """(right, answered) over the page's questions, from {(page, n): answer}."""
    marks = [grade(page, n, answers.get((page, n))) for n in range(1, len(QUIZ[page]) + 1)]
    return sum(m is True for m in marks), sum(m is not None for m in marks)


def check_yourself(page: str) -> None:
    """The "Check yourself" expander: every question of `page`, feedback under each answer, the score line."""
    st.session_state.setdefault(STATE, {})
    with st.expander("🎓 " + t("quiz.title")):
        _quiz(page)


@st.fragment
def _quiz(page: str) -> None:
    answers = st.session_state[STATE]
    st.caption(t("quiz.intro"))
    for n in range(1, len(QUIZ[page]) + 1):
        widget = f"quiz.{page}.{n}"
        if widget not in st.session_state and (page, n) in answers:  # back from another page
            st.session_state[widget] = answers[(page, n)]
        labels = [t(key(page, n, f"a{a}")) for a in range(n_answers(page, n))]  # in this run's language
        choice = st.radio(f"**{n}.** " + t(key(page, n, "q")), range(len(labels)), index=None, key=widget,
                          format_func=labels.__getitem__)
        if choice is None:
            answers.pop((page, n), None)
            continue
        answers[(page, n)] = choice
        why = t(key(page, n, "why"))
        if grade(page, n, choice):
            st.success(t("quiz.right") + " " + why)
        else:
            st.error(t("quiz.wrong", answer=t(key(page, n, f"a{QUIZ[page][n - 1]}"))) + " " + why)
    right, answered = score(page, answers)
    if answered:
        c1, c2 = st.columns([3, 1])
        c1.caption(t("quiz.score", right=right, answered=answered, total=len(QUIZ[page])))
        c2.button(t("quiz.again"), key=f"quiz.{page}.again", on_click=_clear, args=(page,))


def _clear(page: str) -> None:
    for n in range(1, len(QUIZ[page]) + 1):
        st.session_state[STATE].pop((page, n), None)
        st.session_state[f"quiz.{page}.{n}"] = None
