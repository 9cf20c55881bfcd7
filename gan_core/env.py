"""Server settings read from the environment: one parser, so a typo or an absurd value falls back to the
default the same way for every setting (GAN_TURN_S, GAN_STARVED_WAIT)."""
import math
import os


def env_number(name: str, default: float, ok=lambda value: True, words: dict | None = None) -> float:
    """The number in os.environ[name] where it is finite and ok(value); a word of `words` (any case) gives
    its value; unset, empty or anything else: default."""
    text = os.environ.get(name, "").strip().lower()
    if words and text in words:
        return words[text]
    try:
        value = float(text)
    except ValueError:
        return default
    return value if math.isfinite(value) and ok(value) else default
