"""A run's settings refused in words: each refusal's message code and the numbers it names (the page and the CLI
render them in the user's language: a wrong key, bound or type there is a wrong sentence), and what is let through
at each edge of the bounds table."""
import json

import pytest

from gan_core.config import BOUNDS, MAX_JSON_BYTES, TYPES, ConfigError, TrainConfig, check
from gan_core.registry import MODELS


def refusal(call, *args, **kwargs) -> tuple[str, dict]:
    with pytest.raises(ConfigError) as caught:
        call(*args, **kwargs)
    return caught.value.code, caught.value.params


def test_one_setting_is_typed_chosen_and_bounded():
    assert refusal(check, "lr_g", "fast") == ("config.wrong_type", {"key": "lr_g", "kind": "float", "value": "'fast'"})
    assert refusal(check, "batch_size", True) == ("config.wrong_type", {"key": "batch_size", "kind": "int", "value": "True"})
    assert refusal(check, "optimizer", "adamw") == ("config.bad_choice",
                                                    {"key": "optimizer", "value": "adamw", "choices": "adam, sgd"})
    assert check("optimizer", "sgd") == "sgd" and check("balance", True) is True  # a word, a switch: no bounds
    low, high = BOUNDS["batch_size"]
    assert check("batch_size", low) == low and check("batch_size", high) == high  # both ends allowed
    for value in (low - 1, high + 1):
        assert refusal(check, "batch_size", value) == ("config.out_of_range",
                                                       {"key": "batch_size", "value": value, "low": low, "high": high})
    assert refusal(check, "lr_g", float("nan"))[0] == "config.out_of_range"
    one = check("lr_g", 1)  # a JSON or typed 1 for a rate is the float 1.0, as TrainConfig holds it
    assert one == 1.0 and type(one) is float


def test_a_config_names_what_is_wrong_with_it():
    assert refusal(TrainConfig, model="stylegan9") == ("config.unknown_model",
                                                      {"model": "stylegan9", "models": ", ".join(MODELS)})
    assert refusal(TrainConfig.preset, "stylegan9") == ("config.unknown_model",
                                                        {"model": "stylegan9", "models": ", ".join(MODELS)})
    assert refusal(TrainConfig, width=513) == ("config.out_of_range", {"key": "width", "value": 513, "low": 4, "high": 512})
    assert refusal(TrainConfig, d_norm="group") == ("config.bad_choice", {"key": "d_norm", "value": "group",
                                                                          "choices": "auto, batch, layer, none"})
    # the batch after the cut stays within batch_size's bound: 300 x 3 = 900 fits, 300 x 4 would not
    assert TrainConfig(batch_size=300, lr_cut_batch=3).lr_cut_batch == 3
    code, params = refusal(TrainConfig, batch_size=300, lr_cut_batch=4)
    assert (code, params) == ("config.out_of_range", {"key": "lr_cut_batch", "value": 4, "low": 1, "high": 3})
    assert type(params["high"]) is int  # "at most 3", not "at most 3.4133333333333336"


def test_a_run_config_file_is_strict_and_says_why():
    assert refusal(TrainConfig.from_dict, [1, 2]) == ("config.not_object", {"kind": "list"})
    assert refusal(TrainConfig.from_dict, {"zeta": 1, "alpha": 2}) == (
        "config.unknown_keys", {"keys": "alpha, zeta", "known": ", ".join(sorted(TYPES))})
    assert refusal(TrainConfig.from_dict, {"lr_g": "fast"}) == (
        "config.wrong_type", {"key": "lr_g", "kind": "float", "value": '"fast"'})
    assert refusal(TrainConfig.from_dict, {"lr_g": [1]}) == ("config.wrong_type", {"key": "lr_g", "kind": "float", "value": "[1]"})
    # a caller's Python value JSON cannot write (a set, say) is named by its repr, not a TypeError
    assert refusal(TrainConfig.from_dict, {"seed": {7}}) == ("config.wrong_type", {"key": "seed", "kind": "int", "value": '"{7}"'})
    rate = TrainConfig.from_dict({"lr_g": 1}).lr_g
    assert rate == 1.0 and type(rate) is float
    assert refusal(TrainConfig.from_json, "nope") == ("config.not_json", {"detail": "Expecting value: line 1 column 1 (char 0)"})
    assert refusal(TrainConfig.from_json, b"\xff") == (
        "config.not_json", {"detail": "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"})


def test_a_config_file_of_the_largest_size_is_read_and_a_byte_more_is_not():
    text = '{"seed": 7}'
    padded = text[:-1] + " " * (MAX_JSON_BYTES - len(text)) + "}"
    assert len(padded) == MAX_JSON_BYTES and TrainConfig.from_json(padded).seed == 7
    assert refusal(TrainConfig.from_json, padded + " ") == ("config.not_json",
                                                           {"detail": f"larger than {MAX_JSON_BYTES // 1024} KB"})


def test_a_saved_config_reads_back_and_reads_as_text():
    """The run config a learner downloads: the same settings when loaded again, one setting a line, indented."""
    cfg = TrainConfig.preset("cdcgan", seed=3)
    text = cfg.to_json()
    assert TrainConfig.from_json(text) == cfg and text.endswith("}\n")
    lines = text.splitlines()
    assert lines[0] == "{" and lines[1] == '  "model": "cdcgan",' and len(lines) == len(TYPES) + 2
    assert json.loads(text)["seed"] == 3
