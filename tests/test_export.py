"""Run config JSON round trip and validation (one bounds table); the card; the zipped generator loads back."""
import io
import zipfile

import pytest
import torch

from gan_core.config import BOUNDS, ConfigError, TrainConfig, check
from gan_core.export import generator_zip, training_card
from gan_core.hub import load_model
from gan_core.training import build_models


def test_config_round_trip():
    cfg = TrainConfig.preset("wgan-gp", seed=3, balance=True)
    assert TrainConfig.from_json(cfg.to_json()) == cfg
    assert TrainConfig.from_json('{"model": "mlp", "lr_g": 1}').lr_g == 1.0  # an int where a float belongs is fine


@pytest.mark.parametrize("text, code, words", [
    ("{not json", "config.not_json", "not valid JSON"),
    ("[1, 2]", "config.not_object", "JSON object"),
    ('{"modle": "mlp"}', "config.unknown_keys", "unknown keys modle"),
    ('{"lr_g": "fast"}', "config.wrong_type", "'lr_g' must be float"),
    ('{"batch_size": 12.5}', "config.wrong_type", "'batch_size' must be int"),
    ('{"balance": 1}', "config.wrong_type", "'balance' must be bool"),
    ('{"batch_size": 0}', "config.out_of_range", "'batch_size' = 0 is outside the allowed range [2, 1024]"),
    ('{"dropout": 1.5}', "config.out_of_range", "'dropout' = 1.5 is outside"),
    ('{"lr_d": NaN}', "config.out_of_range", "'lr_d' = nan"),
    ('{"model": "not-a-model"}', "config.unknown_model", "unknown model"),
    ("[" * 100_000, "config.not_json", "larger than"),
    ("[" * 5_000, "config.not_json", "not valid JSON"),  # deep nesting: a clear message, not a RecursionError
])
def test_bad_configs_are_refused_in_words(text, code, words):
    with pytest.raises(ConfigError) as e:
        TrainConfig.from_json(text)
    assert e.value.code == code and words in str(e.value).replace("`", "")


def test_one_bounds_table_checks_every_way_in():
    """The dataclass itself, a single flag (check) and the JSON all refuse the same out-of-range value."""
    low, high = BOUNDS["n_critic"]
    assert check("n_critic", high) == high
    for bad in (low - 1, high + 1):
        with pytest.raises(ConfigError):
            check("n_critic", bad)
        with pytest.raises(ConfigError):
            TrainConfig.preset("wgan", n_critic=bad)
        with pytest.raises(ConfigError):
            TrainConfig.from_json(f'{{"model": "wgan", "n_critic": {bad}}}')
    assert check("lr_g", 1) == 1.0 and isinstance(check("lr_g", 1), float)
    with pytest.raises(ConfigError):
        check("seed", True)  # a bool is not a seed
    for name, (lo, hi) in BOUNDS.items():  # every preset sits inside the table
        assert lo < hi, name


def test_generator_zip_is_a_loadable_hf_folder(tmp_path):
    cfg = TrainConfig.preset("mlp", width=16, z_dim=8)
    G, _ = build_models(cfg, 1, 28)
    blob = generator_zip(G, training_card(cfg, 10, 1.5, "CPU"), "mnist-mlp")
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        assert sorted(z.namelist()) == ["mnist-mlp/README.md", "mnist-mlp/config.json", "mnist-mlp/model.safetensors"]
        z.extractall(tmp_path)
        card = z.read("mnist-mlp/README.md").decode()
    config_line = next(line for line in card.splitlines() if line.startswith("- Run config"))
    assert TrainConfig.from_json(config_line.split("`")[-2]) == cfg  # the card reproduces the run
    assert "MNIST" in card and "CC BY-SA 3.0" in card and "10 steps" in card
    G2 = load_model(tmp_path / "mnist-mlp")
    z = torch.randn(4, 8)
    G.eval()
    assert torch.allclose(G(z), G2(z))
