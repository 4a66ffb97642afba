"""Pythia8 + FastJet generation: selection, matching, reproducibility, caching, errors."""

import awkward as ak
import numpy as np
import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.jets import generate_jets, generation, load_jets
from hepml_nb.jets.generation import generate_chunk, parton_fractions, pythia_settings, recipe_notes


@pytest.mark.slow  # Pythia8 generates the jets
def test_generate_chunk_selects_window_and_matches_tops(seed):
    out = generate_chunk("top", 25, seed=seed, pt_range=(550.0, 650.0), eta_max=2.0, max_particles=50)
    pt = np.asarray(out["jet_pt"])
    assert len(pt) == 25 and pt.min() >= 550.0 and pt.max() < 650.0
    assert np.abs(np.asarray(out["jet_eta"])).max() < 2.0
    mass = np.sqrt(np.maximum(np.asarray(out["jet_energy"]) ** 2 - (pt * np.cosh(out["jet_eta"])) ** 2, 0))
    assert 140.0 < np.median(mass) < 200.0  # matched hadronic tops: the jet holds all three quarks
    assert np.asarray(out["jet_nparticles"]).max() <= 50
    taus = [np.asarray(out[f"jet_tau{n}"]) for n in range(1, 5)]
    assert np.all(taus[0] >= taus[1]) and np.all(taus[1] >= taus[2]) and np.all(taus[2] >= 0)
    assert np.all(np.asarray(out["jet_sdmass"]) <= mass + 1e-3)


@pytest.mark.slow  # Pythia8 generates the jets
def test_generate_chunk_gluon_jets_are_light(seed):
    out = generate_chunk("g", 15, seed=seed, pt_range=(300.0, 400.0))
    pt = np.asarray(out["jet_pt"])
    mass = np.sqrt(np.maximum(np.asarray(out["jet_energy"]) ** 2 - (pt * np.cosh(out["jet_eta"])) ** 2, 0))
    assert pt.min() >= 300.0 and np.median(mass) < 100.0


@pytest.mark.slow  # Pythia8 generates the jets
def test_generate_chunk_reproducible_with_seed(seed):
    a = generate_chunk("qcd", 10, seed=seed, pt_range=(300.0, 400.0))
    b = generate_chunk("qcd", 10, seed=seed, pt_range=(300.0, 400.0))
    c = generate_chunk("qcd", 10, seed=seed + 1, pt_range=(300.0, 400.0))
    np.testing.assert_array_equal(a["jet_pt"], b["jet_pt"])
    assert a["part"]["px"].tolist() == b["part"]["px"].tolist()
    assert not np.array_equal(a["jet_pt"], c["jet_pt"])


@pytest.mark.slow  # Pythia8 generates the jets
def test_generate_jets_independent_of_workers_and_cached(tmp_path, monkeypatch, seed):
    monkeypatch.setattr(generation, "CHUNK_JETS", 8)  # three chunks for 20 jets
    monkeypatch.setenv("HEPML_NB_CACHE", str(tmp_path / "one"))
    one = load_jets(generate_jets(20, process="w", seed=seed, pt_range=(300.0, 400.0), n_workers=1, progress=False))
    monkeypatch.setenv("HEPML_NB_CACHE", str(tmp_path / "two"))
    path = generate_jets(20, process="w", seed=seed, pt_range=(300.0, 400.0), n_workers=2, progress=False)
    two = load_jets(path)
    np.testing.assert_array_equal(one.features, two.features)
    np.testing.assert_array_equal(one.jets["tau2"], two.jets["tau2"])
    assert two.label_names == ("label_Wqq",) and len(two) == 20
    mtime = path.stat().st_mtime_ns
    again = generate_jets(20, process="w", seed=seed, pt_range=(300.0, 400.0), n_workers=2, progress=False)
    assert again == path and again.stat().st_mtime_ns == mtime  # read from the cache


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"process": "higgs"}, "unknown jet process 'higgs'; choose one of: top, qcd, w, z, q, g"),
        ({"process": "top", "pt_range": (650.0, 550.0)}, "pt_range must be"),
        ({"process": "top", "eta_max": 0.0}, "eta_max must be in"),
        ({"process": "top", "max_particles": 2}, "max_particles must be between"),
        ({"process": "top", "n_workers": 0}, "n_workers must be a positive integer or None"),
    ],
)
def test_generate_jets_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        generate_jets(10, **kwargs)
    with pytest.raises(ParameterError, match="n_jets must be a positive integer"):
        generate_jets(0, process="top")


def _banners(code: str) -> int:
    """Run ``code`` in a fresh interpreter; count FastJet banners on its (C-level) stdout."""
    import subprocess
    import sys
    import textwrap

    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.count("FastJet release")


_FAKE_CHUNKS = """
    import awkward as ak, fastjet, numpy as np
    from hepml_nb.jets import generation

    def fake_chunk(process, n, *, seed, **kwargs):  # clusters like the real chunks, without Pythia
        one = ak.Array([[{"px": 1.0, "py": 0.0, "pz": 0.0, "E": 1.0}]], with_name="Momentum4D")
        fastjet.ClusterSequence(one, fastjet.JetDefinition(fastjet.antikt_algorithm, 0.8)).inclusive_jets()
        return {"part": {"px": ak.Array([[1.0]] * n)}, "jet_pt": np.zeros(n), "n_events": n}

    generation.generate_chunk = fake_chunk
"""


@pytest.mark.slow  # two pools of three worker processes
def test_generation_workers_print_the_fastjet_banner_once():
    code = (
        _FAKE_CHUNKS
        + """
    for process in ("top", "qcd"):  # two pools of three workers, as top_vs_qcd_files runs them
        generation._generate_all(process, 6 * generation.CHUNK_JETS, seed=0, n_workers=3, progress=False, kwargs={})
    """
    )
    assert _banners(code) == 1


def test_init_fastjet_quiet_hides_the_banner():
    assert (
        _banners("""
        from hepml_nb.jets.generation import init_fastjet
        init_fastjet(quiet=True)
        init_fastjet()  # already initialised: prints nothing either
        print("done")
    """)
        == 0
    )


def _momenta(pt, eta, phi):
    return ak.zip({"pt": pt, "eta": eta, "phi": phi, "mass": np.zeros_like(pt)}, with_name="Momentum4D")


def _ttbar_event():
    """One parton-level ttbar event: top (0) -> b (1) W+ (2) -> u (3) dbar (4); antitop (5) -> bbar (6) W- (7) -> ..."""
    ids = [[6, 5, 24, 2, -1, -6, -5, -24, -2, 1]]
    status = [[-62, 23, -22, 23, 23, -62, 23, -22, 23, 23]]
    mother = [[0, 0, 0, 2, 2, 5, 5, 5, 7, 7]]
    # the top at (eta, phi) = (0, 0), its b at eta 0.6 and W quarks at -0.6 and (0, 0.1);
    # the antitop's W quarks near eta 1, the antitop itself and its b far away
    eta = ak.Array([[0.0, 0.6, 0.0, -0.6, 0.0, 2.0, 2.5, 1.0, 1.0, 1.1]])
    phi = ak.Array([[0.0, 0.0, 0.0, 0.0, 0.1, 1.0, 2.5, 0.0, 0.0, 0.1]])
    p = _momenta(ak.ones_like(eta) * 300.0, eta, phi)
    return ak.zip({"id": ids, "status": status, "mother1": mother, "p": p}, depth_limit=2)


def test_match_top_needs_the_top_and_its_own_three_quarks():
    rec = generation._flat_record(_ttbar_event())
    # jet 0 on the top; jet 1 holds the top's b and the antitop's two W quarks: three decay quarks,
    # but of two different tops (and not the antitop itself)
    jets = (np.array([[0.0, 0.9]]), np.array([[0.0, 0.0]]))
    assert generation._match_top(jets, rec, 1).tolist() == [[True, False]]


def test_pythia_settings_open_the_hard_process_below_the_jet_window():
    lines = generation.pythia_settings("qcd", pt_range=(550.0, 650.0), seed=1)
    assert "PhaseSpace:pTHatMin = 412.5" in lines and "PhaseSpace:pTHatMax = 780.0" in lines
    assert generation.GENERATOR_VERSION != "jets-2"  # files of the old conventions are not reused


def test_constituent_arrays_deta_follows_the_jetclass_sign_at_negative_eta():
    pt, eta, phi = np.array([100.0, 50.0]), np.array([-1.3, -1.0]), np.array([0.1, 0.0])
    cands = {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "e": pt * np.cosh(eta)}
    cands.update(pid=np.array([211, 22]), charge=np.array([1.0, 0.0]))
    cands.update({k: np.zeros(2) for k in ("d0val", "d0err", "dzval", "dzerr")})
    jets = {"pt": np.array([150.0]), "eta": np.array([-1.2]), "phi": np.array([0.05]), "E": np.array([300.0])}
    out = generation._constituent_arrays(cands, np.array([2]), jets, 10)
    # JetClass: (eta_part - eta_jet) * sign(eta_jet); the jet is at eta < 0, so the sign flips
    np.testing.assert_allclose(out["part"]["deta"].tolist()[0], [0.1, -0.2], atol=1e-5)


@pytest.mark.slow  # Pythia8 generates the jets
def test_generate_chunk_cms_like_fills_impact_parameters(seed):
    out = generate_chunk("top", 10, seed=seed, max_particles=40)
    part = out["part"]
    charged = np.asarray(ak.flatten(part["charge"])) != 0
    for name in ("d0err", "dzerr"):
        values = np.asarray(ak.flatten(part[name]))
        assert values.dtype == np.float32 and np.all(values[charged] > 0) and np.all(values[~charged] == 0)
    assert np.all(np.asarray(ak.flatten(part["d0val"]))[~charged] == 0)
    assert out["timings"]["detector_s"] > 0
    with pytest.raises(ParameterError, match="unknown detector 'cms'; choose one of: none, cms-like, atlas-like"):
        generate_chunk("top", 10, seed=seed, detector="cms")


@pytest.mark.slow  # Pythia8 generates the jets
def test_generate_chunk_light_quark_ids_and_jetclass_deta(seed):
    out = generate_chunk("q", 30, seed=seed, pt_range=(300.0, 400.0))
    ids = np.asarray(out["aux_parton"])
    assert set(ids.tolist()) <= {1, 2, 3} and len(set(ids.tolist())) > 1  # the matched quark's PDG id, not 1
    part, jet_eta = out["part"], np.asarray(out["jet_eta"])
    eta = np.arcsinh(part["pz"] / np.hypot(part["px"], part["py"]))
    expected = (eta - jet_eta) * np.where(jet_eta < 0, -1.0, 1.0)
    assert (jet_eta < 0).any()
    np.testing.assert_allclose(ak.flatten(part["deta"]), ak.flatten(expected), atol=2e-3)


@pytest.mark.slow  # Pythia8 generates the jets
def test_generate_chunk_leading_jets_fill_the_pt_window(seed):
    for process in ("qcd", "top"):
        out = generate_chunk(process, 150, seed=seed, pt_range=(550.0, 650.0), max_particles=30)
        assert out["n_selected"] <= 2 * out["n_events"]  # at most the two leading jets of an event
        counts, _ = np.histogram(np.asarray(out["jet_pt"]), bins=4, range=(550.0, 650.0))
        # falling but smooth: no hole at the lower edge from the hard-process pT cut
        assert counts[0] >= 0.8 * counts[1] and counts.min() >= 0.25 * counts.max(), (process, counts)


def test_pythia_settings_znunu_background_is_z_plus_jet_with_invisible_z():
    lines = pythia_settings("qcd", pt_range=(550.0, 650.0), seed=1, background="znunu")
    for switch in ("WeakBosonAndParton:qqbar2gmZg = on", "WeakBosonAndParton:qg2gmZq = on", "23:onMode = off",
                   "23:onIfAny = 12 14 16", "WeakZ0:gmZmode = 2", "PhaseSpace:pTHatMin = 412.5"):  # fmt: skip
        assert switch in lines
    assert "HardQCD:all = on" not in lines
    assert "HardQCD:all = on" in pythia_settings("g", pt_range=(550.0, 650.0), seed=1)  # dijet by default
    # signal processes keep their own switches whatever the background
    top = pythia_settings("top", pt_range=(550.0, 650.0), seed=1, background="znunu")
    assert top == pythia_settings("top", pt_range=(550.0, 650.0), seed=1)


def test_recipe_notes_name_the_qcd_recipe():
    assert not any("QCD jets" in note for note in recipe_notes("cms-like"))
    (note,) = [n for n in recipe_notes("none", background="znunu") if n.startswith("QCD jets")]
    assert "Z(->nu nu)+jet" in note and "JetClass" in note
    assert "dijets" in recipe_notes("none", background="dijet")[-1]


def test_parton_fractions_groups_gluons_light_and_heavy_quarks():
    fractions = parton_fractions(np.array([21, 21, 1, -2, 3, 4, -5, 0]))
    assert fractions == {"gluon": 0.25, "light_quark": 0.375, "heavy_quark": 0.25, "unmatched": 0.125}
    with pytest.raises(ParameterError, match="parton_fractions needs at least one jet"):
        parton_fractions([])


def test_generate_jets_rejects_unknown_background():
    match = "unknown background 'zjets' for the QCD jets; choose one of: dijet, znunu"
    with pytest.raises(ParameterError, match=match):
        generate_jets(10, process="qcd", background="zjets")


@pytest.mark.slow  # Pythia8 generates the jets
def test_generate_chunk_znunu_jets_are_mostly_quark_jets(seed):
    # JetClass's QCD class (Z+jet) is mostly quark jets; dijets in the same window are about half gluon jets
    kwargs = {"seed": seed, "pt_range": (550.0, 650.0), "detector": "none", "max_particles": 30}
    znunu = parton_fractions(generate_chunk("qcd", 200, background="znunu", **kwargs)["aux_parton"])
    dijet = parton_fractions(generate_chunk("qcd", 200, background="dijet", **kwargs)["aux_parton"])
    assert znunu["gluon"] < 0.3 and znunu["light_quark"] > 0.6, znunu
    assert dijet["gluon"] > 0.4, dijet


@pytest.mark.slow  # Pythia8 generates the jets
def test_generate_jets_records_the_background_and_keys_the_cache_by_it(tmp_path, monkeypatch, seed):
    import json

    import uproot

    monkeypatch.setenv("HEPML_NB_CACHE", str(tmp_path))
    kwargs = {"seed": seed, "pt_range": (300.0, 400.0), "detector": "none", "n_workers": 1, "progress": False}
    znunu = generate_jets(12, process="qcd", background="znunu", **kwargs)
    dijet = generate_jets(12, process="qcd", **kwargs)
    assert znunu != dijet
    with uproot.open(znunu) as f:
        notes = json.loads(str(f["hepml_nb_metadata"]))
    assert notes["background"] == "znunu" and any("Z(->nu nu)+jet" in d for d in notes["deviations"])
    assert set(notes["parton_fractions"]) == {"gluon", "light_quark", "heavy_quark", "unmatched"}
    # a top file does not depend on the QCD recipe: both calls give the same cached file
    top = generate_jets(5, process="top", **kwargs)
    assert generate_jets(5, process="top", background="znunu", **kwargs) == top
