"""Checkpoints (hepml_nb.core.checkpoints): weights + recipe card, safe loading, card checks, shipped files."""

import json
import pickle

import pytest
import torch

from hepml_nb.core.checkpoints import CARD_FORMAT, card_path, load_checkpoint, recipe_card, save_checkpoint, versions
from hepml_nb.core.errors import DataError


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


def test_save_checkpoint_round_trip_gives_identical_weights(tmp_path, seed):
    model = _model(seed)
    card = recipe_card(command="python make.py --seed 1", parameters={"seed": 1}, metrics={"auc": 0.9})
    path = save_checkpoint(
        tmp_path / "m.pt",
        model.state_dict(),
        kind="mlp",
        config={"sizes": (3, 4, 2)},
        card=card,
        extra={"feature_names": ["a", "b", "c"]},
    )
    ckpt = load_checkpoint(path, kind="mlp")
    assert ckpt.config == {"sizes": [3, 4, 2]} and ckpt.extra == {"feature_names": ["a", "b", "c"]}
    assert ckpt.card["command"] == "python make.py --seed 1" and ckpt.card["metrics"] == {"auc": 0.9}
    assert ckpt.card["format"] == CARD_FORMAT and ckpt.card["kind"] == "mlp"
    assert set(ckpt.card["versions"]) >= {"python", "hepml_nb", "torch", "numpy"}
    other = ckpt.load_into(_model(seed + 1))
    assert not other.training
    for (k, v), (k2, v2) in zip(model.state_dict().items(), other.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(v, v2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.pt"]  # no temporary files left


def test_load_checkpoint_rejects_a_card_of_other_weights(tmp_path, seed):
    a = save_checkpoint(tmp_path / "a.pt", _model(seed).state_dict(), kind="mlp", config={}, card={})
    save_checkpoint(tmp_path / "b.pt", _model(seed + 1).state_dict(), kind="mlp", config={}, card={})
    card_path(a).write_text(card_path(tmp_path / "b.pt").read_text())
    with pytest.raises(DataError, match="recipe card a.json does not match a.pt: its weights_sha256 differs"):
        load_checkpoint(a)


def test_load_checkpoint_rejects_a_card_with_another_config(tmp_path, seed):
    path = save_checkpoint(tmp_path / "a.pt", _model(seed).state_dict(), kind="mlp", config={"k": 7}, card={})
    card = json.loads(card_path(path).read_text())
    card.pop("weights_sha256")
    card["config"] = {"k": 16}
    card_path(path).write_text(json.dumps(card))
    with pytest.raises(DataError, match=r"its config \{'k': 16\} differs from the weights file's \{'k': 7\}"):
        load_checkpoint(path)


def test_load_checkpoint_errors(tmp_path, seed):
    with pytest.raises(DataError, match="checkpoint .*absent.pt not found"):
        load_checkpoint(tmp_path / "absent.pt")
    path = save_checkpoint(tmp_path / "a.pt", _model(seed).state_dict(), kind="mlp", config={}, card={})
    with pytest.raises(DataError, match="holds a 'mlp' model, not a 'particlenet' model"):
        load_checkpoint(path, kind="particlenet")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(DataError, match=r"not a hepml_nb checkpoint \(needs entries 'config' and 'state_dict'"):
        load_checkpoint(tmp_path / "other.pt")
    card_path(path).write_text("{not json")
    with pytest.raises(DataError, match="recipe card .*a.json is not valid JSON"):
        load_checkpoint(path)


class _Payload:
    """An arbitrary object: torch.load(weights_only=True) must refuse to rebuild it."""


def test_load_checkpoint_never_unpickles_arbitrary_objects(tmp_path):
    path = tmp_path / "evil.pt"
    with path.open("wb") as fh:
        pickle.dump({"config": {}, "state_dict": {}, "payload": _Payload()}, fh, protocol=2)
    with pytest.raises(DataError, match="not a hepml_nb checkpoint that loads safely"):
        load_checkpoint(path)


def test_load_checkpoint_into_a_model_that_does_not_fit(tmp_path, seed):
    path = save_checkpoint(tmp_path / "a.pt", _model(seed).state_dict(), kind="mlp", config={"n": 3}, card={})
    with pytest.raises(DataError, match=r"a.pt does not fit the model built from its config \{'n': 3\}"):
        load_checkpoint(path).load_into(torch.nn.Linear(3, 2))


@pytest.mark.parametrize(
    ("pt", "kind"),
    [
        ("jets/pretrained/particlenet_lite.pt", "particlenet"),
        ("calo/pretrained/calogan_generator.pt", "calogan_generator"),
        ("calo/pretrained/calo_flow_matching.pt", "calo_flow_matching"),
    ],
)
def test_shipped_checkpoints_load_to_the_stored_weights(pt, kind):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "hepml_nb" / pt
    raw = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    ckpt = load_checkpoint(path, kind=kind)
    assert ckpt.card["kind"] == kind and ckpt.card["command"].startswith("python scripts/train_")
    assert {"parameters", "metrics", "versions", "history"} <= set(ckpt.card)
    assert raw.keys() == ckpt.state_dict.keys()
    assert all(torch.equal(raw[k], ckpt.state_dict[k]) for k in raw)


def test_versions_names_the_libraries():
    assert {"python", "hepml_nb", "torch", "numpy"} <= set(versions())
