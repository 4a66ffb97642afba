"""JetClass-schema I/O: a hand-written file round trip, schema errors, class selection."""

import awkward as ak
import numpy as np
import pytest
import uproot
from conftest import write_jet_file

from hepml_nb.core.errors import DataError
from hepml_nb.jets import load_jets, select_classes, take, write_jetclass
from hepml_nb.jets.features import FEATURE_SETS
from hepml_nb.jets.io import find_jet_files, resolve_jet_files

JET_BRANCHES = (
    "jet_pt",
    "jet_eta",
    "jet_phi",
    "jet_energy",
    "jet_sdmass",
    "jet_tau1",
    "jet_tau2",
    "jet_tau3",
    "jet_tau4",
    "jet_nparticles",
)


def _eta(px, py, pz):
    return np.arcsinh(np.asarray(pz) / np.hypot(px, py))


def _jetclass_deta(part, jet_eta, *, plain=False):
    """part_deta from the momenta: JetClass's (eta - eta_jet) * sign(eta_jet), or the plain difference."""
    out = []
    for px, py, pz, eta_jet in zip(part["px"], part["py"], part["pz"], jet_eta, strict=True):
        diff = _eta(px, py, pz) - eta_jet
        out.append((diff if plain else diff * np.sign(eta_jet)).tolist())
    return out


def _hand_written_file(path, *, drop=(), labels=("label_QCD", "label_Tbqq"), jet_eta=(0.5, 1.5, 2.5), plain=False):
    """A JetClass-like file written directly with uproot (not with our writer): 3 jets."""
    px = [[100.0, 50.0, 10.0], [200.0, 20.0], [30.0, 20.0, 10.0, 5.0]]
    part = {
        "px": px,
        "py": [[1.0, 2.0, 3.0], [4.0, 5.0], [1.0, 1.0, 1.0, 1.0]],
        "pz": [[10.0, 5.0, 1.0], [20.0, 2.0], [3.0, 2.0, 1.0, 0.5]],
        "energy": [[101.0, 51.0, 11.0], [201.0, 21.0], [31.0, 21.0, 11.0, 6.0]],
        "dphi": [[0.0, -0.05, 0.1], [0.01, -0.2], [0.0, 0.1, -0.2, 0.3]],
        "charge": [[1.0, 0.0, -1.0], [0.0, 1.0], [1.0, 1.0, 0.0, -1.0]],
    }
    part["deta"] = _jetclass_deta(part, jet_eta, plain=plain)
    # one jagged branch per field, each with its own counter: a layout our writer never makes
    branches = {f"part_{k}": ak.Array(v) for k, v in part.items() if f"part_{k}" not in drop}
    for name in JET_BRANCHES:
        if name not in drop:
            branches[name] = np.array([500.0, 600.0, 620.0]) if name == "jet_pt" else np.arange(3) + 0.5
    if "jet_eta" not in drop:
        branches["jet_eta"] = np.asarray(jet_eta, dtype=float)
    onehot = {"label_QCD": [1, 0, 1], "label_Tbqq": [0, 1, 0], "label_Wqq": [0, 0, 0]}
    for name in labels:
        branches[name] = np.array(onehot[name], dtype=bool)
    with uproot.recreate(path) as f:
        f["tree"] = branches
    return path, part


def test_load_jets_reads_independent_file(tmp_path):
    path, part = _hand_written_file(tmp_path / "hand.root")
    data = load_jets(path, max_particles=3)
    assert len(data) == 3 and data.label_names == ("label_QCD", "label_Tbqq")
    np.testing.assert_array_equal(data.labels, [0, 1, 0])
    np.testing.assert_array_equal(data.mask.sum(1), [3, 2, 3])  # the 4-particle jet is cut to 3
    np.testing.assert_allclose(data.four_vectors[1, :2, 0], [200.0, 20.0])
    np.testing.assert_allclose(data.points[0, :, 0], part["deta"][0], rtol=1e-6)
    assert data.four_vectors[1, 2].tolist() == [0, 0, 0, 0] and not data.features[1, 2].any()
    # the file has part_charge but no part_is* flags: 'auto' takes the largest complete set, JetClass's kin
    assert data.feature_names == FEATURE_SETS["kin"]
    np.testing.assert_allclose(data.jets["sdmass"], [0.5, 1.5, 2.5])


def test_load_jets_rejects_missing_part_px(tmp_path):
    path, _ = _hand_written_file(tmp_path / "nopx.root", drop=("part_px",))
    with pytest.raises(DataError, match=r"branch 'part_px' is missing.*JetClass-schema file needs"):
        load_jets(path)


def test_load_jets_rejects_missing_tree_and_file(tmp_path):
    with uproot.recreate(tmp_path / "other.root") as f:
        f["events"] = {"x": np.zeros(3)}
    with pytest.raises(DataError, match="no TTree 'tree'"):
        load_jets(tmp_path / "other.root")
    with pytest.raises(DataError, match="not found"):
        load_jets(tmp_path / "absent.root")
    with pytest.raises(DataError, match="no jet files"):
        load_jets([])


def test_load_jets_rejects_missing_labels(tmp_path):
    path, _ = _hand_written_file(tmp_path / "nolabel.root", labels=())
    with pytest.raises(DataError, match="no label_"):
        load_jets(path)


def test_load_jets_rejects_labels_not_one_hot(tmp_path):
    path = tmp_path / "twohot.root"
    _hand_written_file(path, labels=("label_QCD", "label_Tbqq"))
    with uproot.update(path) as f:
        del f["tree"]
    part = {f"part_{k}": ak.Array([[1.0]] * 2) for k in ("px", "py", "pz", "energy", "dphi")}
    part["part_deta"] = ak.Array([[_eta(1.0, 1.0, 1.0) - 1.0]] * 2)  # jet_eta = 1
    with uproot.update(path) as f:
        f["tree"] = {
            **part,
            **{b: np.ones(2) for b in JET_BRANCHES[:4]},
            "label_QCD": np.array([1, 1], bool),
            "label_Tbqq": np.array([1, 0], bool),
        }
    with pytest.raises(DataError, match="not one-hot"):
        load_jets(path)


def test_write_jetclass_round_trip(tmp_path):
    part = {k: ak.Array([[3.0, 1.0], [2.0]]) for k in ("px", "py", "pz", "energy", "dphi", "charge")}
    part["deta"] = ak.Array([[_eta(3.0, 3.0, 3.0), _eta(1.0, 1.0, 1.0)], [_eta(2.0, 2.0, 2.0)]])
    arrays = {
        "part": part,
        "jet_pt": np.array([600.0, 580.0]),
        "jet_eta": np.zeros(2),
        "jet_phi": np.zeros(2),
        "jet_energy": np.array([700.0, 650.0]),
        "jet_nparticles": np.array([2, 1]),
    }
    path = write_jetclass(tmp_path / "ours.root", arrays, label="label_Wqq", parton="w")
    with uproot.open(path) as f:
        assert {"part_px", "npart", "label_Wqq", "jet_pt"} <= set(f["tree"].keys())
    data = load_jets([path, path])
    assert data.label_names == ("label_Wqq",) and len(data) == 4
    np.testing.assert_array_equal(data.jets["parton"], [24] * 4)
    np.testing.assert_allclose(data.four_vectors[0, :2, 0], [3.0, 1.0])


def test_write_jetclass_rejects_unknown_label(tmp_path):
    with pytest.raises(DataError, match="unknown label branch 'label_top'; choose one of"):
        write_jetclass(tmp_path / "x.root", {"part": {}, "jet_pt": np.zeros(0)}, label="label_top")


def test_select_classes_reindexes_and_take_subsets(tmp_path):
    path, _ = _hand_written_file(tmp_path / "hand.root")
    data = load_jets(path)
    top_first = select_classes(data, ("label_Tbqq", "label_QCD"))
    np.testing.assert_array_equal(top_first.labels, [1, 0, 1])
    only_top = select_classes(data, ("label_Tbqq",))
    assert len(only_top) == 1 and only_top.jets["pt"][0] == 600.0
    assert len(take(data, [2, 0])) == 2 and take(data, [2, 0]).jets["pt"][0] == 620.0
    with pytest.raises(DataError, match="no jets with label_Wqq"):
        select_classes(data, ("label_QCD", "label_Wqq"))


# --- bad data paths and files (issue #10, defect 4): one DataError naming the file, before reading arrays


_our_file = write_jet_file


def test_resolve_jet_files_expands_globs_sorted_and_lists(tmp_path):
    b, a = _our_file(tmp_path / "b.root"), _our_file(tmp_path / "a.root")
    assert resolve_jet_files(str(tmp_path / "*.root")) == [a.resolve(), b.resolve()]
    assert resolve_jet_files([str(b), str(tmp_path / "a*.root")]) == [b.resolve(), a.resolve()]
    assert resolve_jet_files(b) == [b.resolve()]
    assert len(load_jets(str(tmp_path / "*.root"))) == 6  # the loader takes globs too


def test_jet_files_are_checked_and_read_through_one_open_each(tmp_path, root_opens):
    b, a = _our_file(tmp_path / "b.root"), _our_file(tmp_path / "a.root")
    assert find_jet_files(str(tmp_path / "*.root")) == [a.resolve(), b.resolve()]
    assert root_opens == []  # the signature check does not open the files as ROOT
    resolve_jet_files(str(tmp_path / "*.root"))  # the check before a run
    assert root_opens == ["a.root", "b.root"]
    root_opens.clear()
    assert len(load_jets(find_jet_files(str(tmp_path / "*.root")))) == 6  # the notebook's read
    assert root_opens == ["a.root", "b.root"]


def test_resolve_jet_files_rejects_missing_path(tmp_path):
    with pytest.raises(DataError, match=r"jet file .*absent\.root not found; check the path"):
        resolve_jet_files(str(tmp_path / "absent.root"))
    with pytest.raises(DataError, match=r"not found \(the folder .*JetClass does not exist either\)"):
        resolve_jet_files([str(tmp_path / "JetClass" / "train.root")])


def test_resolve_jet_files_rejects_glob_matching_nothing(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(DataError, match=r"data_path '.*/\*\.root' matches no file \(the folder .* holds readme\.txt\)"):
        resolve_jet_files(str(tmp_path / "*.root"))
    with pytest.raises(DataError, match=r"matches no file \(the folder .*JetClass does not exist\)"):
        load_jets(str(tmp_path / "JetClass" / "*.root"))  # today: IndexError in the notebook, "not found" here


def test_resolve_jet_files_rejects_bad_values():
    with pytest.raises(DataError, match=r"data_path must be a path, a glob string or a list of them, got 42 \(int\)"):
        resolve_jet_files(42)
    with pytest.raises(DataError, match="no jet files given"):
        resolve_jet_files([])


def test_load_jets_rejects_empty_file(tmp_path):
    (tmp_path / "empty.root").touch()
    with pytest.raises(DataError, match=r"jet file .*empty\.root is empty \(0 bytes\)"):
        load_jets(tmp_path / "empty.root")
    with pytest.raises(DataError, match=r"is empty \(0 bytes\)"):
        resolve_jet_files(str(tmp_path / "*.root"))


def test_load_jets_rejects_text_file(tmp_path):
    (tmp_path / "jets.root").write_text("hello, these are my jets")
    with pytest.raises(
        DataError,
        match=r"jet file .*jets\.root is not a ROOT file \(no ROOT file header\): it looks like a text file; "
        r"give a ROOT file written by uproot or ROOT \(JetClass schema",
    ):
        load_jets(tmp_path / "jets.root")


def test_load_jets_rejects_truncated_file(tmp_path):
    data = _our_file(tmp_path / "good.root").read_bytes()
    (tmp_path / "half.root").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"jet file .*half\.root is truncated: its header says"):
        load_jets(tmp_path / "half.root")
    with pytest.raises(DataError, match="is truncated"):
        resolve_jet_files([str(tmp_path / "half.root")])


def test_load_jets_rejects_corrupt_file(tmp_path):
    data = _our_file(tmp_path / "good.root").read_bytes()
    n = len(data) // 2
    (tmp_path / "zeroed.root").write_bytes(data[:100] + bytes(n - 100) + data[n:])  # right length, keys list gone
    with pytest.raises(DataError, match=r"zeroed\.root has no TTree 'tree' \(it holds no tree at all: is it complete"):
        resolve_jet_files(tmp_path / "zeroed.root")
    (tmp_path / "header.root").write_bytes(data[:16] + b"\xff" * 44 + data[60:])  # a damaged file header
    with pytest.raises(DataError, match=r"header\.root is a ROOT file that uproot cannot read .*probably truncated"):
        resolve_jet_files(tmp_path / "header.root")  # today: a raw ValueError from uproot
    basket = data.index(b"ZL")  # the first compressed basket
    (tmp_path / "basket.root").write_bytes(data[:basket] + b"XX" + data[basket + 2 :])
    with pytest.raises(
        DataError,
        match=r"jet file .*basket\.root: its branches cannot be read \(ValueError: .*"
        r"probably corrupt",
    ):
        load_jets(tmp_path / "basket.root")  # today: ValueError: unrecognized compression algorithm


def test_resolve_jet_files_rejects_wrong_tree_name(tmp_path):
    with uproot.recreate(tmp_path / "events.root") as f:
        f.mktree("events", {"jet_pt": np.float32}).extend({"jet_pt": np.ones(2, np.float32)})
    with pytest.raises(DataError, match=r"has no TTree 'tree' \(its trees are: events\); expected the JetClass"):
        resolve_jet_files(tmp_path / "events.root")
    with pytest.raises(DataError, match=r"its trees are: events"):
        load_jets(tmp_path / "events.root")


def test_resolve_jet_files_rejects_missing_branch(tmp_path):
    path, _ = _hand_written_file(tmp_path / "nopt.root", drop=("jet_pt",))
    with pytest.raises(
        DataError,
        match=r"nopt\.root: branch 'jet_pt' is missing \(the tree has 18 branches: "
        r"jet_energy, jet_eta, ",
    ):
        resolve_jet_files(str(path))
    with uproot.recreate(tmp_path / "dotted.root") as f:  # the plain uproot way names the branches part.px
        f["tree"] = {"part": ak.zip({"px": ak.Array([[1.0], [2.0]])}), "jet_pt": np.ones(2)}
    with pytest.raises(DataError, match=r"branch 'part_px' is missing but 'part.px' is there: .*field_name=lambda"):
        load_jets(tmp_path / "dotted.root")


def test_load_jets_rejects_zero_entry_tree(tmp_path):
    path = _our_file(tmp_path / "none.root", n=0)
    with pytest.raises(DataError, match=r"none\.root: tree 'tree' has no entries \(0 jets\)"):
        resolve_jet_files(path)
    with pytest.raises(DataError, match="has no entries"):
        load_jets(path)  # today: "no jet has any label_* branch set"


def test_load_jets_reads_jetclass_deta_at_negative_eta(tmp_path):
    path, part = _hand_written_file(tmp_path / "neg.root", jet_eta=(-0.5, 1.5, -2.5))
    data = load_jets(path, max_particles=4)
    eta = _eta(part["px"][0], part["py"][0], part["pz"][0])
    np.testing.assert_allclose(data.points[0, :3, 0], (eta + 0.5) * -1.0, rtol=1e-5)  # signed by the jet's eta


def test_load_jets_rejects_plain_deta_difference(tmp_path):
    path, _ = _hand_written_file(tmp_path / "plain.root", jet_eta=(-0.5, 1.5, -2.5), plain=True)
    with pytest.raises(DataError, match=r"plain difference eta_part - eta_jet.*\* sign\(jet_eta\)"):
        load_jets(path)


def test_load_jets_rejects_deta_of_no_convention(tmp_path):
    path, part = _hand_written_file(tmp_path / "odd.root")
    with uproot.update(path) as f:
        del f["tree"]
    branches = {f"part_{k}": ak.Array(v) for k, v in part.items()}
    branches["part_deta"] = ak.Array([[0.01, 0.02, -0.1], [0.0, 0.3], [0.1, -0.1, 0.2, 0.05]])
    for name in ("jet_pt", "jet_eta", "jet_phi", "jet_energy"):
        branches[name] = np.array([500.0, 600.0, 620.0])
    branches["label_QCD"] = np.ones(3, dtype=bool)
    with uproot.recreate(path) as f:
        f["tree"] = branches
    with pytest.raises(DataError, match="does not follow the JetClass convention.*convert with"):
        load_jets(path)


def test_write_jetclass_stores_per_jet_parton_ids_and_metadata(tmp_path):
    part = {k: ak.Array([[3.0], [2.0], [1.0]]) for k in ("px", "py", "pz", "energy", "dphi")}
    part["deta"] = ak.Array([[_eta(3.0, 3.0, 3.0)], [_eta(2.0, 2.0, 2.0)], [_eta(1.0, 1.0, 1.0)]])
    arrays = {"part": part, "aux_parton": np.array([2, 1, 3])}
    for name in ("jet_pt", "jet_eta", "jet_phi", "jet_energy"):
        arrays[name] = np.zeros(3) if name == "jet_eta" else np.ones(3)
    path = write_jetclass(tmp_path / "q.root", arrays, label="label_QCD", parton="q", metadata={"generator": "x"})
    np.testing.assert_array_equal(load_jets(path).jets["parton"], [2, 1, 3])  # the matched quark, not 1 for all
    with uproot.open(path) as f:
        assert '"generator": "x"' in str(f["hepml_nb_metadata"])


# --- JetClass's input sets (particle_transformer data/JetClass/JetClass_full.yaml) and dtypes

#: the pf_features block of JetClass_full.yaml: (variable, subtract_by, multiply_by, clip_min, clip_max);
#: None = no transformation. weaver clips standardised variables to [-5, 5] unless told otherwise.
JETCLASS_FULL_YAML = (
    ("part_pt_log", 1.7, 0.7, -5, 5),
    ("part_e_log", 2.0, 0.7, -5, 5),
    ("part_logptrel", -4.7, 0.7, -5, 5),
    ("part_logerel", -4.7, 0.7, -5, 5),
    ("part_deltaR", 0.2, 4.0, -5, 5),
    ("part_charge", None),
    ("part_isChargedHadron", None),
    ("part_isNeutralHadron", None),
    ("part_isPhoton", None),
    ("part_isElectron", None),
    ("part_isMuon", None),
    ("part_d0", None),
    ("part_d0err", 0, 1, 0, 1),
    ("part_dz", None),
    ("part_dzerr", 0, 1, 0, 1),
    ("part_deta", None),
    ("part_dphi", None),
)


def _full_file(path, *, drop=()):
    """Two jets (eta < 0 and > 0) with every JetClass particle branch, written by write_jetclass."""
    px, py = [[300.0, 40.0, 2.0], [250.0, 0.3]], [[10.0, -5.0, 1.0], [20.0, 0.2]]
    pz = [[-150.0, -30.0, -2.0], [90, 0.1]]
    energy = [np.sqrt(np.square(a) + np.square(b) + np.square(c)).tolist() for a, b, c in zip(px, py, pz, strict=True)]
    jet_eta = np.array([-0.5, 0.35])
    part = {"px": px, "py": py, "pz": pz, "energy": energy}
    part["deta"] = _jetclass_deta(part, jet_eta)
    part["dphi"] = [[0.01, -0.1, 0.3], [0.0, 0.05]]
    part["charge"] = [[1.0, 0.0, -1.0], [1.0, 0.0]]
    for flag, values in {
        "isChargedHadron": [[1, 0, 0], [1, 0]],
        "isNeutralHadron": [[0, 1, 0], [0, 0]],
        "isPhoton": [[0, 0, 0], [0, 1]],
        "isElectron": [[0, 0, 1], [0, 0]],
        "isMuon": [[0, 0, 0], [0, 0]],
    }.items():
        part[flag] = values
    part["d0val"], part["d0err"] = [[0.02, 0.0, -4.0], [0.5, 0.0]], [[0.01, 0.0, 2.5], [0.03, 0.0]]
    part["dzval"], part["dzerr"] = [[-0.3, 0.0, 7.0], [0.04, 0.0]], [[0.02, 0.0, 0.5], [1.7, 0.0]]
    arrays = {
        "part": {k: ak.Array(v) for k, v in part.items() if k not in drop},
        "jet_pt": np.array([560.0, 600.0]),
        "jet_eta": jet_eta,
        "jet_phi": np.zeros(2),
        "jet_energy": np.array([700.0, 640.0]),
        "jet_nparticles": np.array([3, 2]),
    }
    return write_jetclass(path, arrays, label="label_Tbqq", parton="top"), part, arrays


def _yaml_inputs(part, arrays):
    """JetClass_full.yaml's new_variables and pf_features evaluated as weaver does, per particle."""
    out = []
    for j in range(len(arrays["jet_pt"])):
        p = {k: np.asarray(v[j], dtype=float) for k, v in part.items()}
        pt = np.hypot(p["px"], p["py"])
        new = {
            "part_pt_log": np.log(pt),
            "part_e_log": np.log(p["energy"]),
            "part_logptrel": np.log(pt / arrays["jet_pt"][j]),
            "part_logerel": np.log(p["energy"] / arrays["jet_energy"][j]),
            "part_deltaR": np.hypot(p["deta"], p["dphi"]),
            "part_d0": np.tanh(p["d0val"]),
            "part_dz": np.tanh(p["dzval"]),
            **{f"part_{k}": v for k, v in p.items()},
        }
        columns = []
        for var, *transform in JETCLASS_FULL_YAML:
            x = new[var]
            if transform[0] is not None:
                shift, scale, low, high = transform
                x = np.clip((x - shift) * scale, low, high)
            columns.append(x)
        order = np.argsort(-pt, kind="stable")
        out.append(np.stack(columns, axis=1)[order])
    return out


def test_full_feature_set_equals_jetclass_full_yaml_after_a_file_round_trip(tmp_path):
    path, part, arrays = _full_file(tmp_path / "full.root")
    data = load_jets(path, max_particles=4, feature_set="full")
    assert data.feature_names == tuple(v[0][len("part_") :] for v in JETCLASS_FULL_YAML)
    assert len(data.feature_names) == 17 and load_jets(path).feature_names == data.feature_names  # 'auto'
    for j, expected in enumerate(_yaml_inputs(part, arrays)):
        n = len(expected)
        np.testing.assert_allclose(data.features[j, :n], expected, rtol=2e-6, atol=2e-6)
        assert not data.features[j, n:].any() and data.mask[j].sum() == n
    assert data.features[0, 2, data.feature_names.index("d0err")] == 1.0  # 2.5 mm clipped to [0, 1]
    kin = load_jets(path, max_particles=4, feature_set="kin")
    keep = [data.feature_names.index(n) for n in kin.feature_names]
    np.testing.assert_array_equal(kin.features, data.features[..., keep])


def test_writer_uses_jetclass_dtypes(tmp_path):
    path, _, _ = _full_file(tmp_path / "full.root")
    with uproot.open(path) as f:
        types = {k: str(b.interpretation) for k, b in f["tree"].items()}
    # the interpretations uproot shows for a real JetClass file (particle_transformer
    # notebooks/JetClass101.ipynb; there the jagged branches are std::vector, here counted arrays)
    assert types["part_px"] == types["part_d0err"] == types["part_charge"] == "AsJagged(AsDtype('>f4'))"
    assert types["part_isMuon"] == types["part_isPhoton"] == "AsJagged(AsDtype('>i4'))"
    assert types["jet_nparticles"] == types["jet_pt"] == types["label_QCD"] == "AsDtype('>f4')"
    assert types["label_Hbb"] == "AsDtype('bool')" and types["label_Tbqq"] == types["label_Wqq"] == "AsDtype('>i4')"
    assert types["aux_genpart_pid"] == "AsDtype('>f4')"
    with uproot.open(path) as f:
        assert f["tree"]["aux_genpart_pid"].array(library="np").tolist() == [6.0, 6.0]


def test_feature_set_missing_branch_names_branch_set_and_file(tmp_path):
    path, _, _ = _full_file(tmp_path / "nod0.root", drop=("d0err",))
    with pytest.raises(DataError, match=r"nod0.root: feature_set 'full' .*needs the branch part_d0err"):
        load_jets(path, feature_set="full")
    assert load_jets(path).feature_names == FEATURE_SETS["kinpid"]  # 'auto' falls back
    with pytest.raises(DataError, match="unknown feature_set 'pid'; choose one of 'kin', 'kinpid', 'full'"):
        load_jets(path, feature_set="pid")


# --- issue 22: values and labels are checked when reading (and on a first chunk before the kernel)


def _file_with(path, *, part=None, jets=None, label="label_QCD"):
    """Three jets of two particles (our writer), with some particle or jet values replaced."""
    values = {k: [[3.0, 1.0], [3.0, 1.0], [3.0, 1.0]] for k in ("px", "py", "pz", "energy", "dphi")}
    values["deta"] = [[_eta(3.0, 3.0, 3.0), _eta(1.0, 1.0, 1.0)]] * 3  # jet_eta = 0
    for (name, jet, particle), value in (part or {}).items():
        values[name] = [list(row) for row in values[name]]
        values[name][jet][particle] = value
    arrays = {
        "part": {k: ak.Array(v) for k, v in values.items()},
        "jet_pt": np.full(3, 600.0),
        "jet_eta": np.zeros(3),
        "jet_phi": np.zeros(3),
        "jet_energy": np.full(3, 700.0),
    }
    for (name, jet), value in (jets or {}).items():
        arrays[name] = arrays[name].copy()
        arrays[name][jet] = value
    return write_jetclass(path, arrays, label=label)


@pytest.mark.parametrize(
    "part,jets,match",
    [
        ({("px", 1, 1): np.nan}, None, r"branch 'part_px' is nan \(not finite\) at entry 1, particle 1"),
        (None, {("jet_pt", 2): np.inf}, r"branch 'jet_pt' is inf \(not finite\) at entry 2;"),
        ({("energy", 2, 0): -5.0}, None, r"branch 'part_energy' is -5 \(negative\) at entry 2, particle 0"),
        (None, {("jet_energy", 0): -700.0}, r"branch 'jet_energy' is -700 \(negative\) at entry 0"),
        (None, {("jet_pt", 1): 0.0}, r"branch 'jet_pt' is 0 \(not positive\) at entry 1"),
    ],
)
def test_load_jets_rejects_bad_values_naming_file_branch_and_entry(tmp_path, part, jets, match):
    path = _file_with(tmp_path / "bad.root", part=part, jets=jets)
    with pytest.raises(DataError, match=rf"jet file .*bad\.root: {match}"):
        load_jets(path)  # today: NaN ends in an AssertionError of the notebook, inf and negatives pass
    with pytest.raises(DataError, match=match):
        resolve_jet_files(str(path))  # before any kernel: the first jets of every file


def test_prepare_run_rejects_nan_jets_before_the_kernel(tmp_path):
    from hepml_nb.course.runner import prepare_run

    path = _file_with(tmp_path / "nan.root", part={("pz", 0, 0): np.nan})
    with pytest.raises(DataError, match=r"parameter 'data_path': jet file .*nan\.root: branch 'part_pz' is nan"):
        prepare_run("particlenet", "ci", {"data_path": str(path)})


def test_resolve_jet_files_rejects_labels_not_one_hot_naming_file_and_entry(tmp_path):
    path = tmp_path / "twohot.root"
    _hand_written_file(path)
    with uproot.update(path) as f:
        del f["tree"]
    branches = {f"part_{k}": ak.Array([[1.0]] * 3) for k in ("px", "py", "pz", "energy", "dphi")}
    branches["part_deta"] = ak.Array([[_eta(1.0, 1.0, 1.0) - 1.0]] * 3)  # jet_eta = 1
    branches.update({b: np.ones(3) for b in JET_BRANCHES[:4]})
    with uproot.update(path) as f:
        f["tree"] = {**branches, "label_QCD": np.array([1, 0, 1], bool), "label_Tbqq": np.array([0, 0, 1], bool)}
    match = (
        r"jet file .*twohot\.root: the label_\* branches are not one-hot at entry 1 \(none set\); 2 of 3 jets; "
        r"each jet needs exactly one of label_QCD, label_Tbqq set to 1"
    )
    with pytest.raises(DataError, match=match):
        resolve_jet_files(path)  # today: only load_jets, inside the kernel, without the file
    with pytest.raises(DataError, match=match):
        load_jets(path)
    with uproot.update(path) as f:
        del f["tree"]
    with uproot.update(path) as f:
        f["tree"] = {**branches, "label_QCD": np.array([1.0, 0.5, 1.0]), "label_Tbqq": np.zeros(3)}
    with pytest.raises(
        DataError, match=r"branch 'label_QCD' is 0\.5 \(not 0 or 1\) at entry 1; .* label branches hold 0 or 1"
    ):
        resolve_jet_files(path)


def test_resolve_jet_files_reads_a_first_chunk_so_corrupt_baskets_fail_before_the_kernel(tmp_path):
    data = _our_file(tmp_path / "good.root").read_bytes()
    basket = data.index(b"ZL")  # the first compressed basket
    (tmp_path / "basket.root").write_bytes(data[:basket] + b"XX" + data[basket + 2 :])
    with pytest.raises(DataError, match=r"jet file .*basket\.root: its branches cannot be read .*probably corrupt"):
        resolve_jet_files(tmp_path / "basket.root")  # today: passes, and the kernel fails later


def test_resolve_jet_files_names_a_symlink_to_a_text_file(tmp_path):
    (tmp_path / "notes.txt").write_text("root of the problem: these are not jets\n" * 10)
    (tmp_path / "jets.root").symlink_to(tmp_path / "notes.txt")
    with pytest.raises(DataError) as info:
        resolve_jet_files(str(tmp_path / "*.root"))
    text = str(info.value)
    assert "truncated" not in text and "these are not jets" not in text  # today: "is truncated"
    assert f"{tmp_path / 'jets.root'} (a symbolic link to {tmp_path / 'notes.txt'}) is not a ROOT file" in text
