"""Run config JSON round trip and validation (one bounds table); the card; the zipped generator loads back."""
import io
import json
import zipfile
from dataclasses import asdict, replace

import pytest
import torch

from gan_core.config import BOUNDS, ConfigError, TrainConfig, check
from gan_core.datasets import DATASETS
from gan_core.export import MNIST_NOTE, batch_text, generator_zip, training_card
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
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}  # a smaller download than stored
        z.extractall(tmp_path)
        card = z.read("mnist-mlp/README.md").decode()
    config_line = next(line for line in card.splitlines() if line.startswith("- Run config"))
    assert TrainConfig.from_json(config_line.split("`")[-2]) == cfg  # the card reproduces the run
    assert "MNIST" in card and "CC BY-SA 3.0" in card and "10 steps" in card
    G2 = load_model(tmp_path / "mnist-mlp")
    z = torch.randn(4, 8)
    G.eval()
    assert torch.allclose(G(z), G2(z))
    # the card's own loading line, as a reader copies it, on the folder it ships in
    code = next(line for line in card.splitlines() if line.startswith("- Load: ")).split("`")[1]
    scope = {}
    exec(code.replace("'this-folder'", repr(str(tmp_path / "mnist-mlp"))), scope)
    assert scope["G"].generate(5).shape == (5, 1, 28, 28)


def test_batch_text_names_the_batch_it_grows_to_at_the_cut_and_only_then():
    cfg = TrainConfig.preset("cdcgan", batch_size=64, lr_cut_at=1000, lr_cut_batch=2)
    assert batch_text(cfg) == "batch 64 (128 from step 1,000)"
    assert batch_text(replace(cfg, lr_cut_batch=1)) == "batch 64"  # a cut of the rates alone
    assert batch_text(replace(cfg, lr_cut_at=0)) == "batch 64"  # no cut: the batch never grows


def test_card_of_a_digit_run_on_two_processes_says_each_thing_a_reader_needs():
    cfg = TrainConfig.preset("cdcgan", batch_size=64, lr_cut_at=1000, lr_cut_batch=2, z_dim=100)
    scores = {"n": 2000, "confident_share": 0.981, "classes_covered": 10}
    lines = training_card(cfg, 1234, 30.04, "CPU (2 threads)", scores=scores, wall=31.26, processes=2).split("\n")
    # the Hub reads the front matter between the two "---": library, tags, the data's licence and id
    assert lines[:8] == ["---", "library_name: gan-playground", "tags: [gan, mnist, gan-playground]",
                         "license: cc-by-sa-3.0", "datasets: [mnist]", "---",
                         "# cdcgan generator trained with gan_core", ""]
    assert lines[8] == f"- Data: {MNIST_NOTE}."
    assert lines[9] == ("- Training: 1,234 steps, batch 64 (128 from step 1,000), 30.0 s of training (31.3 s wall) "
                        "on CPU (2 threads) x 2 processes (torchrun, DistributedDataParallel; world_size 2, "
                        "32 samples per process).")
    assert lines[10] == "- Latent: 100-d standard normal noise; output in [-1, 1] (tanh)."
    prefix = "- Run config (reproduce with `TrainConfig.from_json` or the app's config upload): `"
    assert lines[12].startswith(prefix) and json.loads(lines[12][len(prefix):-1]) == asdict(cfg)
    assert lines[13] == ("- Digit scores (2000 samples): 98% confident digits, 10/10 classes covered: "
                         f"`{json.dumps(scores)}`")
    assert lines[14] == ("- Limits: a small demo model trained for seconds to minutes; expect blurry or broken samples "
                         "and possible mode collapse. Not for any real use.")
    assert lines[15] == "" and len(lines) == 16  # the card ends with a newline


def test_card_of_a_lone_run_says_no_processes_wall_or_scores_and_names_other_data_its_own_way():
    cfg = TrainConfig.preset("dcgan", batch_size=32, lr_cut_at=0)
    card = training_card(cfg, 10, 1.0, "cpu", "fashion", where="the GAN Playground app")
    lines = card.split("\n")
    assert lines[:8] == ["---", "library_name: gan-playground", "tags: [gan, fashion, gan-playground]",
                         "license: mit", "datasets: [fashion_mnist]", "---",  # the Hub's id for Fashion-MNIST
                         "# dcgan generator trained with the GAN Playground app", ""]
    assert lines[8] == f"- Data: {DATASETS['fashion'].card}."
    assert lines[9] == "- Training: 10 steps, batch 32, 1.0 s of training on cpu."
    assert "Digit scores" not in card
    # pictures of the visitor's own: no licence or data id is claimed for them, and the data line names them
    lines = training_card(cfg, 10, 1.0, "cpu", "my-photos.zip").split("\n")
    assert lines[:4] == ["---", "library_name: gan-playground", "tags: [gan, gan-playground]", "---"]
    assert lines[6] == "- Data: my-photos.zip."

