"""The published JetClass models: the project's loader and input pipeline against weaver-core's own
data pipeline (``SimpleIterDataset`` on JetClass's yaml configs) and networks, on a ROOT file in the
JetClass schema that the test writes; the errors for wrong files; the referee.

The equality tests always run with randomly initialised weaver ``ParticleNet`` and
``ParticleTransformer`` modules (every weight and BatchNorm statistic perturbed), and with the real
published ParticleNet files from ``../shared/jetclass/`` where that folder exists.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import torch
import yaml

from hepml_nb.core.errors import DataError, ParameterError
from hepml_nb.jets import load_jets, write_jetclass
from hepml_nb.jets.jetclass import (
    JETCLASS_CLASSES,
    PUBLISHED_SHA256,
    binary_score,
    how_to_get,
    jetclass_class,
    jetclass_discriminant,
    jetclass_probabilities,
    load_jetclass,
    published_name,
)
from hepml_nb.jets.models import build_particlenet
from hepml_nb.jets.pretrained import save_checkpoint
from hepml_nb.jets.study import referee, referee_from_probabilities

# ../shared/jetclass beside the project (CI's copy of shared/); HEPML_NB_JETCLASS_FILES names another folder
SHARED = Path(os.environ.get("HEPML_NB_JETCLASS_FILES") or Path(__file__).resolve().parents[2] / "shared" / "jetclass")
needs_shared = pytest.mark.skipif(
    not (SHARED / "ParticleNet_full.pt").is_file(),
    reason=f"the published JetClass files are not in {SHARED} (particle_transformer's models/ and data/JetClass/)",
)
SETS = ("kin", "kinpid", "full")
TOLERANCE = 1e-5  # on the 10 softmax outputs

# JetClass_{kin,kinpid,full}.yaml of particle_transformer (commit 2925bdb), the parts weaver reads for
# inference; test_yaml_transcription_equals_the_published_yamls compares them with the files where present
_NEW_VARIABLES = {
    "part_mask": "ak.ones_like(part_energy)",
    "part_pt": "np.hypot(part_px, part_py)",
    "part_pt_log": "np.log(part_pt)",
    "part_e_log": "np.log(part_energy)",
    "part_logptrel": "np.log(part_pt/jet_pt)",
    "part_logerel": "np.log(part_energy/jet_energy)",
    "part_deltaR": "np.hypot(part_deta, part_dphi)",
    "part_d0": "np.tanh(part_d0val)",
    "part_dz": "np.tanh(part_dzval)",
}
_KIN = [["part_pt_log", 1.7, 0.7], ["part_e_log", 2.0, 0.7], ["part_logptrel", -4.7, 0.7]]
_KIN += [["part_logerel", -4.7, 0.7], ["part_deltaR", 0.2, 4.0]]
_PID = [["part_charge", None]] + [[f"part_is{t}", None] for t in ("ChargedHadron", "NeutralHadron", "Photon")]
_PID += [["part_isElectron", None], ["part_isMuon", None]]
_TRACK = [["part_d0", None], ["part_d0err", 0, 1, 0, 1], ["part_dz", None], ["part_dzerr", 0, 1, 0, 1]]
_ANGLES = [["part_deta", None], ["part_dphi", None]]
_FEATURES = {"kin": _KIN + _ANGLES, "kinpid": _KIN + _PID + _ANGLES, "full": _KIN + _PID + _TRACK + _ANGLES}
_OBSERVERS = ["jet_pt", "jet_eta", "jet_phi", "jet_energy", "jet_nparticles", "jet_sdmass"]
_OBSERVERS += [f"jet_tau{i}" for i in range(1, 5)]


def _yaml_config(feature_set: str) -> dict:
    def group(variables, pad_mode="wrap"):
        return {"length": 128, "pad_mode": pad_mode, "vars": variables}

    new = {k: v for k, v in _NEW_VARIABLES.items() if feature_set == "full" or k not in ("part_d0", "part_dz")}
    return {
        "selection": None,
        "new_variables": new,
        "preprocess": {"method": "manual", "data_fraction": 0.5},
        "inputs": {
            "pf_points": group([["part_deta", None], ["part_dphi", None]]),
            "pf_features": group(_FEATURES[feature_set]),
            "pf_vectors": group([[f"part_{v}", None] for v in ("px", "py", "pz", "energy")]),
            "pf_mask": group([["part_mask", None]], pad_mode="constant"),
        },
        "labels": {"type": "simple", "value": [f"label_{c}" for c in JETCLASS_CLASSES]},
        "observers": _OBSERVERS,
        "weights": None,
    }


def _write_yaml(folder: Path, feature_set: str) -> Path:
    path = folder / f"JetClass_{feature_set}.yaml"
    path.write_text(yaml.safe_dump(_yaml_config(feature_set), sort_keys=False))
    return path


_FLAGS = ("isChargedHadron", "isNeutralHadron", "isPhoton", "isElectron", "isMuon")


def _jet(rng, n: int, eta0: float, phi0: float) -> dict:
    """One jet's particles (random pT, spread, types, impact parameters), in random order unless it has
    more than 128 particles, which are written by decreasing pT as JetClass and the project write them."""
    pt = rng.exponential(20.0, n) + 0.5
    eta, phi = eta0 + rng.normal(0, 0.25, n), phi0 + rng.normal(0, 0.25, n)
    kind = rng.integers(0, 5, n)
    charge = np.where(np.isin(kind, (0, 3, 4)), rng.choice([-1.0, 1.0], n), 0.0)
    mass = np.where(kind == 0, 0.1396, np.where(kind == 1, 0.4976, 0.0))
    order = np.argsort(-pt) if n > 128 else rng.permutation(n)
    pt, eta, phi, kind, charge, mass = (a[order] for a in (pt, eta, phi, kind, charge, mass))
    p = {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta)}
    p["energy"] = np.sqrt(pt**2 * np.cosh(eta) ** 2 + mass**2)
    p["charge"] = charge
    p.update({flag: (kind == i).astype(np.int32) for i, flag in enumerate(_FLAGS)})
    track = charge != 0
    for name, scale, draw in (("d0val", 0.5, rng.normal), ("dzval", 2.0, rng.normal)):
        p[name] = np.where(track, draw(0, scale, n), 0.0)
    for name, scale in (("d0err", 0.3), ("dzerr", 0.6)):
        p[name] = np.where(track, rng.exponential(scale, n), 0.0)
    return p


def write_jetclass_sample(path: Path, n_jets: int, *, seed: int) -> Path:
    """Random jets in the exact JetClass schema (the project's writer), with a 1-particle jet (fewer
    than k = 16 neighbours), a 5-particle jet and a 150-particle jet (more than the 128 kept)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 90, n_jets)
    counts[:3] = (1, 5, 150)
    jets = [_jet(rng, n, rng.uniform(-2, 2), rng.uniform(-np.pi, np.pi)) for n in counts]
    four = np.array([[j[k].sum() for k in ("px", "py", "pz", "energy")] for j in jets])
    jet_pt, jet_eta, jet_phi = np.hypot(four[:, 0], four[:, 1]), None, np.arctan2(four[:, 1], four[:, 0])
    jet_eta = np.arcsinh(four[:, 2] / jet_pt)
    for j, eta, phi in zip(jets, jet_eta, jet_phi, strict=True):
        j["deta"] = (np.arcsinh(j["pz"] / np.hypot(j["px"], j["py"])) - eta) * np.sign(eta)
        j["dphi"] = (np.arctan2(j["py"], j["px"]) - phi + np.pi) % (2 * np.pi) - np.pi
    arrays = {
        "part": {k: ak.Array([j[k].tolist() for j in jets]) for k in jets[0]},
        "jet_pt": jet_pt,
        "jet_eta": jet_eta,
        "jet_phi": jet_phi,
        "jet_energy": four[:, 3],
        "jet_nparticles": counts.astype(float),
        "jet_sdmass": rng.uniform(10, 200, n_jets),
        **{f"jet_tau{i}": rng.uniform(0, 1, n_jets) for i in range(1, 5)},
    }
    return write_jetclass(path, arrays, label="label_Tbqq", parton="top")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_jetclass_sample(tmp_path_factory.mktemp("jetclass") / "sample.root", 40, seed=11)


def _weaver_inputs(root: Path, config: Path) -> dict[str, np.ndarray]:
    """weaver-core's inputs for every jet of ``root``: SimpleIterDataset(..., for_training=False)."""
    from weaver.utils.dataset import SimpleIterDataset

    data = SimpleIterDataset(
        {"test": [str(root)]},
        str(config),
        for_training=False,
        load_range_and_fraction=((0, 1), 1, 1),
        fetch_by_files=True,
        fetch_step=1,
    )
    batches = list(torch.utils.data.DataLoader(data, batch_size=16, num_workers=0))
    inputs = {k: torch.cat([b[0][k] for b in batches]) for k in batches[0][0]}
    inputs["jet_pt"] = torch.cat([b[2]["jet_pt"] for b in batches])
    return inputs


def _perturbed(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Every weight and BatchNorm statistic moved at random (so that no wrongly mapped 1 or 0 goes unseen)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, value in module.state_dict().items():
            if value.is_floating_point():
                if key.endswith("running_var"):
                    value.copy_(0.5 + 1.5 * torch.rand(value.shape, generator=g))
                else:
                    value.add_(0.1 * torch.randn(value.shape, generator=g))
    return module.eval()


def _weaver_particlenet(input_dims: int, seed: int):
    """weaver-core's ParticleNet as particle_transformer's networks/example_ParticleNet.py builds it."""
    from weaver.nn.model.ParticleNet import ParticleNet

    torch.manual_seed(seed)
    conv = [(16, (64, 64, 64)), (16, (128, 128, 128)), (16, (256, 256, 256))]
    net = ParticleNet(input_dims, 10, conv_params=conv, fc_params=[(256, 0.1)], use_fusion=False)
    return _perturbed(net, seed)


def _weaver_part(input_dims: int, seed: int):
    """weaver-core's ParticleTransformer as networks/example_ParticleTransformer.py builds it."""
    from weaver.nn.model.ParticleTransformer import ParticleTransformer

    torch.manual_seed(seed)
    net = ParticleTransformer(
        input_dims,
        10,
        pair_input_dim=4,
        use_pre_activation_pair=False,
        embed_dims=[128, 512, 128],
        pair_embed_dims=[64, 64, 64],
        num_heads=8,
        num_layers=8,
        num_cls_layers=2,
        cls_block_params={"dropout": 0, "attn_dropout": 0, "activation_dropout": 0},
        fc_params=[],
        activation="gelu",
    )
    return _perturbed(net, seed)


def _weaver_scores(net, inputs: dict, *, part: bool) -> np.ndarray:
    with torch.no_grad():
        if part:
            logits = net(inputs["pf_features"], v=inputs["pf_vectors"], mask=inputs["pf_mask"])
        else:
            logits = net(inputs["pf_points"], inputs["pf_features"], inputs["pf_mask"])
    return torch.softmax(logits, dim=1).numpy()


def _save_wrapped(state: dict, path: Path) -> Path:
    """As weaver saves a model: the state dict of the example networks' wrapper (keys 'mod.*')."""
    torch.save({f"mod.{k}": v for k, v in state.items()}, path)
    return path


def _ours(sample: Path, model_path: Path, feature_set: str) -> tuple[np.ndarray, object]:
    model = load_jetclass(model_path, feature_set=feature_set)
    data = load_jets(sample, max_particles=128, feature_set=feature_set)
    return jetclass_probabilities(model, data, batch_size=16), data


def _assert_equal_scores(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.shape == theirs.shape == (len(theirs), 10)
    assert theirs.std(axis=0).max() > 0.01, "the reference scores hardly vary: the check would be weak"
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)


@pytest.fixture(scope="module")
def weaver_inputs(sample, tmp_path_factory):
    pytest.importorskip("weaver", reason="weaver-core (the dev extra) is not installed")
    folder = tmp_path_factory.mktemp("yaml")
    return {fs: _weaver_inputs(sample, _write_yaml(folder, fs)) for fs in SETS}


@pytest.mark.parametrize("feature_set", SETS)
def test_load_jets_gives_weavers_inputs_for_jetclass_yamls(sample, weaver_inputs, feature_set):
    """Same jets in the same order; the real particles' inputs, points and four-vectors agree (weaver in
    float32, the project in float64); the padding differs (weaver repeats the particles, the project
    pads with zeros; both networks mask it)."""
    theirs = weaver_inputs[feature_set]
    data = load_jets(sample, max_particles=128, feature_set=feature_set)
    np.testing.assert_array_equal(theirs["jet_pt"].numpy(), data.jets["pt"].astype(np.float32))
    mask = theirs["pf_mask"].numpy()[:, 0] > 0
    np.testing.assert_array_equal(mask.sum(axis=1), data.mask.sum(axis=1))
    assert mask.sum(axis=1)[2] == 128  # the 150-particle jet: both keep 128 (the file is sorted by pT)
    for j in range(len(data)):
        vectors = theirs["pf_vectors"].numpy()[j].T[mask[j]]
        order = np.argsort(-np.hypot(vectors[:, 0], vectors[:, 1]), kind="stable")  # the project's order
        n = int(mask[j].sum())
        np.testing.assert_allclose(theirs["pf_features"].numpy()[j].T[mask[j]][order], data.features[j, :n], atol=2e-5)
        np.testing.assert_allclose(theirs["pf_points"].numpy()[j].T[mask[j]][order], data.points[j, :n], atol=1e-6)
        np.testing.assert_allclose(vectors[order], data.four_vectors[j, :n], rtol=1e-6, atol=1e-5)


# the full set in the quick run, the others (the same network with fewer inputs) with the slow tests
_ONE_SET_QUICK = [s if s == "full" else pytest.param(s, marks=pytest.mark.slow) for s in SETS]


@pytest.mark.parametrize("feature_set", _ONE_SET_QUICK)
def test_load_jetclass_equals_weaver_particlenet_with_random_weights(
    sample, weaver_inputs, feature_set, tmp_path, seed
):
    net = _weaver_particlenet(len(_FEATURES[feature_set]), seed)
    path = _save_wrapped(net.state_dict(), tmp_path / "ParticleNet_random.pt")
    ours, _ = _ours(sample, path, feature_set)
    _assert_equal_scores(ours, _weaver_scores(net, weaver_inputs[feature_set], part=False))


def _as_weaver_04(state: dict, num_heads: int, seed: int) -> dict:
    """The same network in the layout of weaver-core <= 0.4.17, which the published ParT files have.

    There, torch's MultiheadAttention holds ``attn.in_proj_weight`` and the attention output is scaled
    per head and reordered to (head_dim, heads): channel ``d * H + h`` is ``c_attn[h]`` times row
    ``h * D + d`` of ``out_proj`` (``einsum('tbhd,h->tbdh')``). weaver-core >= 0.5 reads such a file
    with its new layout (no reordering), which is another function; so the old layout is made here from
    the new one with new random ``c_attn``, giving the same outputs as the module. (Checked once against
    weaver-core 0.4.17's own ParticleTransformer, which needs numpy < 2: agreement to 8e-7.)
    """
    g = torch.Generator().manual_seed(seed)
    out = {}
    for key, value in state.items():
        out[key.replace("attn.in_proj.", "attn.in_proj_")] = value
    for prefix in [k[: -len(".c_attn")] for k in state if k.endswith(".c_attn")]:
        w, b, scale = (state[f"{prefix}.{k}"] for k in ("attn.out_proj.weight", "attn.out_proj.bias", "c_attn"))
        width = w.shape[0]
        c = torch.arange(width)
        new_scale = 0.5 + torch.rand(num_heads, generator=g)
        factor = (scale[c // (width // num_heads)] / new_scale[c % num_heads]).unsqueeze(1)
        rows = (c % num_heads) * (width // num_heads) + c // num_heads  # old row of new channel c
        out[f"{prefix}.attn.out_proj.weight"] = torch.empty_like(w).index_copy(0, rows, w * factor)
        out[f"{prefix}.attn.out_proj.bias"] = torch.empty_like(b).index_copy(0, rows, b * factor[:, 0])
        out[f"{prefix}.c_attn"] = new_scale
    return out


@pytest.mark.parametrize(
    "feature_set,layout", [pytest.param("kin", "0.5", marks=pytest.mark.slow), ("full", "0.5"), ("kinpid", "0.4")]
)
def test_load_jetclass_equals_weaver_particle_transformer_with_random_weights(
    sample, weaver_inputs, feature_set, layout, tmp_path, seed
):
    net = _weaver_part(len(_FEATURES[feature_set]), seed)
    state = net.state_dict() if layout == "0.5" else _as_weaver_04(net.state_dict(), 8, seed)
    path = _save_wrapped(state, tmp_path / "ParT_random.pt")
    ours, _ = _ours(sample, path, feature_set)
    _assert_equal_scores(ours, _weaver_scores(net, weaver_inputs[feature_set], part=True))


@needs_shared
@pytest.mark.parametrize("feature_set", SETS)
def test_load_jetclass_equals_weaver_with_the_published_particlenet(sample, weaver_inputs, feature_set):
    from weaver.nn.model.ParticleNet import ParticleNet

    path = SHARED / f"ParticleNet_{feature_set}.pt"
    conv = [(16, (64, 64, 64)), (16, (128, 128, 128)), (16, (256, 256, 256))]
    net = ParticleNet(len(_FEATURES[feature_set]), 10, conv_params=conv, fc_params=[(256, 0.1)], use_fusion=False)
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict({k.removeprefix("mod."): v for k, v in state.items()})
    ours, _ = _ours(sample, path, feature_set)
    _assert_equal_scores(ours, _weaver_scores(net.eval(), weaver_inputs[feature_set], part=False))


@needs_shared
@pytest.mark.parametrize("feature_set", SETS)
def test_yaml_transcription_equals_the_published_yamls(feature_set):
    real = yaml.safe_load((SHARED / f"JetClass_{feature_set}.yaml").read_text())
    ours = _yaml_config(feature_set)
    for section in ("new_variables", "inputs", "labels", "observers"):
        assert real[section] == ours[section], section
    assert real["preprocess"]["method"] == "manual"


@needs_shared
def test_load_jetclass_builds_the_published_particlenet():
    model = load_jetclass(SHARED / "ParticleNet_kinpid.pt")
    assert model.name == "particlenet_jetclass" and model.feature_set == "kinpid" and not model.training
    assert (
        model.class_names
        == JETCLASS_CLASSES
        == ("QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl")
    )
    assert model.config["k"] == 16 and model.config["input_dims"] == 13 and model.config["num_classes"] == 10


def test_load_jetclass_refuses_weights_of_another_input_set(tmp_path, seed):
    pytest.importorskip("weaver", reason="weaver-core (the dev extra) is not installed")
    path = _save_wrapped(_weaver_particlenet(7, seed).state_dict(), tmp_path / "ParticleNet_kin.pt")
    with pytest.raises(
        DataError, match=r"trained on JetClass's 'kin' inputs \(7 per particle\), but feature_set='full' has 17"
    ):
        load_jetclass(path, feature_set="full")
    assert load_jetclass(path).feature_set == "kin"


def test_load_jetclass_refuses_another_configuration(tmp_path, seed):
    pytest.importorskip("weaver", reason="weaver-core (the dev extra) is not installed")
    from weaver.nn.model.ParticleNet import ParticleNet

    lite = ParticleNet(17, 10)  # weaver's defaults: ParticleNet-Lite's blocks and a fusion block
    with pytest.raises(
        DataError, match=r"not in the JetClass paper's configuration .*other shapes: .*unexpected: fusion_block"
    ):
        load_jetclass(_save_wrapped(lite.state_dict(), tmp_path / "lite.pt"))
    odd = _weaver_particlenet(9, seed)
    with pytest.raises(DataError, match="with 9 particle inputs, which is none of JetClass's input sets"):
        load_jetclass(_save_wrapped(odd.state_dict(), tmp_path / "odd.pt"))


def test_load_jetclass_refuses_files_that_are_not_weaver_state_dicts(tmp_path, seed):
    text = tmp_path / "notes.pt"
    text.write_text("not weights")
    with pytest.raises(DataError, match=r"notes.pt is not a PyTorch weights file \(it starts with b'not '\)"):
        load_jetclass(text)
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")  # a pickled module, not a state dict
    with pytest.raises(
        DataError, match=r"holds pickled Python objects \(torch.nn.modules.linear.Linear\).*never pickled"
    ):
        load_jetclass(tmp_path / "module.pt")
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(DataError, match="is not a state dict .*: it holds list"):
        load_jetclass(tmp_path / "list.pt")
    torch.save({"linear.weight": torch.zeros(2, 2)}, tmp_path / "other.pt")
    with pytest.raises(DataError, match="not a state dict of weaver-core's ParticleNet or ParticleTransformer"):
        load_jetclass(tmp_path / "other.pt")
    ours = save_checkpoint(
        build_particlenet(input_dims=7), tmp_path / "ours.pt", feature_names=list("abcdefg"), info={}
    )
    with pytest.raises(DataError, match="is a hepml_nb checkpoint.*load_checkpoint"):
        load_jetclass(ours)
    with pytest.raises(DataError, match=r"missing.pt not found; give one of the published files"):
        load_jetclass(tmp_path / "missing.pt")
    with pytest.raises(ParameterError, match="unknown feature_set 'pid'"):
        load_jetclass(text, feature_set="pid")


def test_jetclass_probabilities_refuses_other_inputs_or_cut_jets(sample, tmp_path, seed):
    pytest.importorskip("weaver", reason="weaver-core (the dev extra) is not installed")
    model = load_jetclass(_save_wrapped(_weaver_particlenet(7, seed).state_dict(), tmp_path / "pn.pt"))
    with pytest.raises(DataError, match=r"takes JetClass's 'kin' inputs .*feature_set='kin', max_particles=128"):
        jetclass_probabilities(model, load_jets(sample, max_particles=128, feature_set="full"))
    with pytest.raises(
        DataError, match="1 of 40 jets have more particles than the 100 they are padded to, .* max_particles=128"
    ):
        jetclass_probabilities(model, load_jets(sample, max_particles=100, feature_set="kin"))


def test_binary_score_is_signal_over_signal_plus_qcd():
    p = np.full((2, 10), 0.05)
    p[0, JETCLASS_CLASSES.index("Tbqq")], p[0, 0] = 0.6, 0.2
    np.testing.assert_allclose(binary_score(p, "top"), [0.75, 0.5])
    np.testing.assert_allclose(binary_score(p, "Wqq"), [0.05 / 0.25, 0.5])
    assert [jetclass_class(c) for c in ("g", "q", "w", "z", "label_Hbb")] == ["QCD", "QCD", "Wqq", "Zqq", "Hbb"]
    with pytest.raises(ParameterError, match="must be \\(N, 10\\) JetClass outputs, got \\(2, 2\\)"):
        binary_score(p[:, :2], "top")
    with pytest.raises(ParameterError, match="class 'higgs' has no JetClass counterpart"):
        jetclass_class("higgs")


def test_jetclass_discriminant_scores_signal_and_qcd_jets_of_the_sample():
    p = np.full((5, 10), 0.05)
    p[:, JETCLASS_CLASSES.index("Tbqq")] = [0.6, 0.1, 0.3, 0.2, 0.05]
    p[:, 0] = [0.2, 0.3, 0.1, 0.2, 0.6]
    labels = np.array([4, 0, 1, 2, 3])  # top, g, q, w, z
    y, score = jetclass_discriminant(p, labels, ("g", "q", "w", "z", "top"), signal="top")
    assert y.tolist() == [1, 0, 0]  # the W and Z jets are neither signal nor QCD
    np.testing.assert_allclose(score, [0.6 / 0.8, 0.1 / 0.4, 0.3 / 0.4])
    y, score = jetclass_discriminant(p[:2], [1, 0], ("qcd", "w"), signal="w")
    np.testing.assert_allclose(score, binary_score(p[:2], "Wqq"))
    assert y.tolist() == [1, 0]
    with pytest.raises(ParameterError, match="signal 'top' is not a class of the sample; its classes: qcd, w"):
        jetclass_discriminant(p[:2], [1, 0], ("qcd", "w"), signal="top")


def test_how_to_get_names_the_repository_and_every_sha256():
    text = how_to_get()
    assert "github.com/jet-universe/particle_transformer" in text and "models/" in text
    for name, digest in PUBLISHED_SHA256.items():
        assert f"{name}  {digest}" in text and len(digest) == 64


def test_published_name_knows_a_file_by_its_sha256(tmp_path):
    other = tmp_path / "ParticleNet_full.pt"
    torch.save({"w": torch.zeros(2)}, other)
    assert published_name(other) is None  # the name alone does not make it the published file
    if (SHARED / "ParticleNet_full.pt").is_file():
        assert [published_name(SHARED / name) for name in PUBLISHED_SHA256] == list(PUBLISHED_SHA256)


def test_prepare_run_checks_jetclass_model_before_the_kernel(tmp_path):
    from hepml_nb.course.runner import prepare_run

    text = tmp_path / "notes.pt"
    text.write_text("not weights")
    with pytest.raises(DataError, match=r"parameter 'jetclass_model': .*notes.pt is not a PyTorch weights file"):
        prepare_run("particlenet", "ci", {"jetclass_model": str(text)})
    with pytest.raises(DataError, match=r"parameter 'jetclass_model': JetClass model .*missing.pt not found"):
        prepare_run("particlenet", "ci", {"jetclass_model": str(tmp_path / "missing.pt")})
    assert prepare_run("particlenet", "ci").params.get("jetclass_model") is None


@needs_shared
def test_prepare_run_refuses_a_jetclass_model_of_another_input_set():
    from hepml_nb.course.runner import prepare_run

    kin = str(SHARED / "ParticleNet_kin.pt")
    with pytest.raises(DataError, match=r"parameter 'jetclass_model': .*trained on JetClass's 'kin' inputs .*'full'"):
        prepare_run("particlenet", "ci", {"jetclass_model": kin})
    assert (
        prepare_run("particlenet", "ci", {"jetclass_model": kin, "feature_set": "kin"}).params["jetclass_model"] == kin
    )


class _Fixed(torch.nn.Module):
    """A 10-class model whose logits depend only on the number of particles: n -> class n % 10."""

    inputs = ("features", "mask")
    name, feature_set, class_names = "fixed", "kin", JETCLASS_CLASSES

    def forward(self, features, mask):
        n = mask.sum(dim=1).long() % 10
        return 5.0 * torch.nn.functional.one_hot(n, 10).float()


def test_referee_gives_mean_outputs_and_right_fractions_per_true_class(sample):
    data = load_jets(sample, max_particles=128, feature_set="kin")
    labels = np.arange(len(data)) % 2  # two true classes: QCD and top, alternating
    data = replace(data, labels=labels, label_names=("qcd", "top"))
    result = referee(_Fixed(), data)
    cls = data.mask.sum(axis=1) % 10
    expected = np.full((len(data), 10), 1.0)
    expected[np.arange(len(data)), cls] = np.exp(5.0)
    expected /= expected.sum(axis=1, keepdims=True)
    for i in range(2):
        np.testing.assert_allclose(result.mean_outputs[i], expected[labels == i].mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(result.argmax_fractions[i], np.bincount(cls[labels == i], minlength=10) / 20)
    right = [np.mean(cls[labels == 0] == 0), np.mean(cls[labels == 1] == JETCLASS_CLASSES.index("Tbqq"))]
    np.testing.assert_allclose(result.right_fractions, right)
    assert result.jetclass_names == ("QCD", "Tbqq") and result.counts.tolist() == [20, 20]
    metrics = result.metrics()
    assert metrics["referee_top_right"] == right[1] and metrics["referee_qcd_n"] == 20
    assert metrics["referee_qcd_p_Hbb"] == pytest.approx(result.mean_outputs[0, 1])
    table = result.table(what="argmax")
    assert list(table.index) == ["qcd", "top"] and table.loc["top", "JetClass class"] == "Tbqq"
    assert table.loc["top", "argmax right"] == right[1] and list(table.columns[3:]) == list(JETCLASS_CLASSES)


def test_referee_from_probabilities_refuses_bad_inputs():
    p = np.full((4, 10), 0.1)
    with pytest.raises(ParameterError, match="class 'higgs' has no JetClass counterpart"):
        referee_from_probabilities(p, np.zeros(4, int), ("higgs",))
    with pytest.raises(ParameterError, match="needs at least one jet .* jets per label: \\[4, 0\\]"):
        referee_from_probabilities(p, np.zeros(4, int), ("qcd", "top"))
    with pytest.raises(ParameterError, match="probabilities must be \\(N, 10\\)"):
        referee_from_probabilities(p[:, :3], np.zeros(4, int), ("qcd",))
    table = referee_from_probabilities(p, np.array([0, 1, 0, 1]), ("label_QCD", "label_Wqq")).table()
    assert table["jets"].tolist() == [2, 2] and table.loc["label_Wqq", "JetClass class"] == "Wqq"
