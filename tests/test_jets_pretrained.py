"""Checkpoints: the shipped ParticleNet-Lite, save/load round trip, clear errors."""

import json

import numpy as np
import pytest
import torch

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.jets.features import FEATURE_SETS
from hepml_nb.jets.generation import GENERATOR_VERSION
from hepml_nb.jets.models import build_particlenet, build_tagger
from hepml_nb.jets.pretrained import (
    PRETRAINED_DIR,
    card_metrics_text,
    load_checkpoint,
    load_pretrained,
    pretrained_path,
    save_checkpoint,
)


@pytest.mark.parametrize("name,kind", [("particlenet_lite", "particlenet"), ("part_small", "part")])
def test_shipped_checkpoints_are_small_and_documented(name, kind):
    path = pretrained_path(name)
    assert path.stat().st_size < 2 * 2**20
    info = json.loads(path.with_suffix(".json").read_text())
    assert info["command"].startswith("python scripts/train_tagger_checkpoint.py")
    assert info["metrics"]["auc"] > 0.95 and info["kind"] == kind
    model, loaded = load_pretrained(name, feature_names=info["feature_names"])
    assert not model.training and loaded["parameters"]["model"] == name


@pytest.mark.parametrize("name", ["particlenet_lite", "part_small"])
def test_shipped_checkpoints_were_trained_on_the_current_generator(name):
    info = json.loads(pretrained_path(name).with_suffix(".json").read_text())
    # jets-2 files had part_deta without JetClass's sign(eta_jet); jets-3 had no detector and no impact parameters
    assert info["data"]["generator_version"] == GENERATOR_VERSION
    assert info["data"]["detector"] == "cms-like" and info["data"]["feature_set"] == "full"
    assert tuple(info["feature_names"]) == FEATURE_SETS["full"]


@pytest.mark.parametrize("name", ["particlenet_lite", "part_small"])
def test_instructor_notes_quote_the_shipped_cards(name):
    """The figures the instructor notes give for a checkpoint are its card's (retraining must update both)."""
    from pathlib import Path

    notes = (Path(__file__).parents[1] / "tutorials" / "particlenet" / "INSTRUCTOR_NOTES.md").read_text()
    card = json.loads(pretrained_path(name).with_suffix(".json").read_text())
    metrics, best = card["metrics"], card["best_epoch"]
    quoted = f"best epoch {best}, AUC {metrics['auc']:.4f}, accuracy {metrics['accuracy']:.3f}"
    assert quoted in " ".join(notes.split()), quoted
    assert f"1/eps_B = {metrics['rej50']:.0f} at" in notes and f"{metrics['rej50_n_pass']} " in notes
    assert f"generator `{card['data']['generator_version']}`" in notes


@pytest.mark.parametrize("name", ["particlenet_lite", "part_small"])
def test_shipped_cards_carry_intervals(name):
    metrics = json.loads(pretrained_path(name).with_suffix(".json").read_text())["metrics"]
    assert metrics["rej50_low"] < metrics["rej50"] < metrics["rej50_high"] and metrics["rej50_n_pass"] > 0


def test_card_metrics_text_shows_intervals_and_lower_limits():
    card = {"metrics": {"auc": 0.98, "rej50": 300.0, "rej30": float("inf")}}
    card["metrics"].update(
        rej50_low=250.0, rej50_high=370.0, rej50_n_pass=10, rej50_n_background=3000, rej50_lower_limit=False
    )
    card["metrics"].update(
        rej30_low=2600.0, rej30_high=float("inf"), rej30_n_pass=0, rej30_n_background=3000, rej30_lower_limit=True
    )
    text = card_metrics_text(card)
    assert "300 (+70 -50) (10 of 3000 QCD jets pass)" in text and "30 % > 2600" in text
    assert card_metrics_text({"metrics": {"auc": 0.98, "rej50": 301.0, "rej30": 3009.0}}).endswith("30 % 3009")


def test_save_and_load_checkpoint_round_trip(tmp_path, seed):
    torch.manual_seed(seed)
    model = build_particlenet(input_dims=4).eval()
    path = save_checkpoint(model, tmp_path / "m.pt", feature_names=("a", "b", "c", "d"), info={"note": 1})
    loaded, info = load_checkpoint(path, feature_names=("a", "b", "c", "d"))
    x = (torch.randn(2, 10, 2), torch.randn(2, 10, 4), torch.ones(2, 10, dtype=torch.bool))
    with torch.no_grad():
        np.testing.assert_array_equal(model(*x).numpy(), loaded(*x).numpy())
    assert info["note"] == 1 and info["kind"] == "particlenet" and len(info["weights_sha256"]) == 64
    with pytest.raises(DataError, match=r"expects the particle features \['a', 'b', 'c', 'd'\]"):
        load_checkpoint(path, feature_names=("a", "b"))


def test_save_and_load_part_checkpoint_round_trip(tmp_path, seed):
    torch.manual_seed(seed)
    model = build_tagger("part_small", input_dims=4).eval()
    path = save_checkpoint(model, tmp_path / "p.pt", feature_names=("a", "b", "c", "d"), info={"note": 2})
    loaded, info = load_checkpoint(path, feature_names=("a", "b", "c", "d"))
    assert type(loaded).__name__ == "ParticleTransformer" and loaded.name == "part_small"
    assert info["kind"] == "part" and loaded.config == model.config
    p4 = torch.rand(2, 10, 4) + torch.tensor([0.0, 0.0, 0.0, 2.0])
    x = (torch.randn(2, 10, 4), p4, torch.arange(10)[None, :] < torch.tensor([[3], [10]]))
    with torch.no_grad():
        np.testing.assert_array_equal(model(*x).numpy(), loaded(*x).numpy())


def test_save_checkpoint_rejects_other_models(tmp_path):
    with pytest.raises(ParameterError, match="cannot save a Linear: checkpoints hold one of ParticleNet, Particle"):
        save_checkpoint(torch.nn.Linear(2, 2), tmp_path / "l.pt", feature_names=(), info={})


def test_missing_checkpoints_raise(tmp_path):
    with pytest.raises(DataError, match="no pretrained checkpoint 'nope'.*available: "):
        pretrained_path("nope")
    with pytest.raises(DataError, match=r"available: part_small, particlenet_lite \(create one with .*--model part\)"):
        pretrained_path("part")  # the paper's ParT is not shipped
    with pytest.raises(DataError, match="checkpoint .* not found"):
        load_checkpoint(tmp_path / "absent.pt")
    assert PRETRAINED_DIR.name == "pretrained"
