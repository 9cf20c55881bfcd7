"""Run config JSON round trip and validation; the zipped generator loads back."""
import io
import json
import zipfile

import pytest
import torch

from gan_core.export import ConfigError, config_from_json, config_to_json, generator_zip, model_card
from gan_core.hub import load_model
from gan_core.training import TrainConfig, build_models


def test_config_round_trip():
    cfg = TrainConfig.preset("wgan-gp", seed=3, balance=True)
    assert config_from_json(config_to_json(cfg)) == cfg
    assert config_from_json('{"model": "mlp", "lr_g": 1}').lr_g == 1.0  # an int where a float belongs is fine


@pytest.mark.parametrize("text, words", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"modle": "mlp"}', "unknown keys ['modle']"),
    ('{"lr_g": "fast"}', "'lr_g' must be float"),
    ('{"batch_size": 12.5}', "'batch_size' must be int"),
    ('{"balance": 1}', "'balance' must be bool"),
    ('{"batch_size": 0}', "must be > 0"),
    ('{"dropout": 1.5}', "between 0 and 1"),
    ('{"model": "vae"}', "unknown model"),
])
def test_bad_configs_are_refused_in_words(text, words):
    with pytest.raises(ConfigError, match=None) as e:
        config_from_json(text)
    assert words in str(e.value)


def test_generator_zip_is_a_loadable_hf_folder(tmp_path):
    cfg = TrainConfig.preset("mlp", width=16, z_dim=8)
    G, _ = build_models(cfg, 1, 28)
    blob = generator_zip(G, model_card(cfg, 10, 1.5, "CPU"), "mnist-mlp")
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        assert sorted(z.namelist()) == ["mnist-mlp/README.md", "mnist-mlp/config.json", "mnist-mlp/model.safetensors"]
        z.extractall(tmp_path)
        card = z.read("mnist-mlp/README.md").decode()
    assert json.loads(card.split("`")[-2])["model"] == "mlp" or "Run config" in card
    G2 = load_model(tmp_path / "mnist-mlp")
    z = torch.randn(4, 8)
    G.eval()
    assert torch.allclose(G(z), G2(z))
