"""Particle inputs and jet-level features against hand-computed values."""

import itertools

import awkward as ak
import numpy as np
import pytest

from hepml_nb.core.errors import DataError
from hepml_nb.jets import HIGH_LEVEL_FEATURES, high_level_features, padded_particles, particle_kinematics
from hepml_nb.jets.features import energy_correlation_ratios
from hepml_nb.jets.io import JetData
from hepml_nb.jets.substructure import nsubjettiness_from_axes


def test_particle_kinematics_hand_computed():
    out = particle_kinematics(
        np.array([10.0]), np.array([20.0]), np.array([0.3]), np.array([-0.4]), np.array([500.0]), np.array([800.0])
    )
    assert out["pt_log"][0] == pytest.approx(np.log(10.0))
    assert out["e_log"][0] == pytest.approx(np.log(20.0))
    assert out["logptrel"][0] == pytest.approx(np.log(10.0 / 500.0))
    assert out["logerel"][0] == pytest.approx(np.log(20.0 / 800.0))
    assert out["deltaR"][0] == pytest.approx(0.5)


def _jet(px, py, pz, e, deta, dphi, charge):
    particles = ak.Array([{"px": px, "py": py, "pz": pz, "energy": e, "deta": deta, "dphi": dphi, "charge": charge}])
    pt = float(np.hypot(sum(px), sum(py)))
    jets = {
        "pt": np.array([pt]),
        "eta": np.array([np.arcsinh(sum(pz) / pt)]),
        "energy": np.array([float(sum(e))]),
        "sdmass": np.array([5.0]),
        "tau1": np.array([0.4]),
        "tau2": np.array([0.2]),
        "tau3": np.array([0.1]),
        "tau4": np.array([0.05]),
    }
    padded = padded_particles(particles, jets, max_particles=4, feature_set="kin")
    return JetData(particles=particles, jets=jets, labels=np.zeros(1, int), label_names=("label_QCD",), **padded)


def test_padded_particles_standardises_and_masks():
    data = _jet([3.0, 4.0], [4.0, 0.0], [0.0, 0.0], [5.0, 4.0], [0.1, -0.2], [0.0, 0.3], [1.0, 0.0])
    assert data.mask.tolist() == [[True, True, False, False]]
    log_pt = data.features[0, 0, data.feature_names.index("pt_log")]
    assert log_pt == pytest.approx((np.log(5.0) - 1.7) * 0.7, rel=1e-6)
    assert data.features[0, 2:].sum() == 0 and data.points[0, 2:].sum() == 0
    delta_r = data.features[0, 1, data.feature_names.index("deltaR")]
    assert delta_r == pytest.approx((np.hypot(0.2, 0.3) - 0.2) * 4.0, rel=1e-6)


def test_padded_particles_sorts_by_pt():
    data = _jet([1.0, 30.0], [0.0, 0.0], [0.0, 0.0], [1.0, 30.0], [0.5, 0.1], [0.0, 0.0], [0.0, 0.0])
    np.testing.assert_allclose(data.four_vectors[0, :2, 0], [30.0, 1.0])
    np.testing.assert_allclose(data.points[0, :2, 0], [0.1, 0.5], rtol=1e-6)


def test_high_level_features_hand_computed():
    # three massless particles: pT 3, 2, 1 along x-ish directions
    px, py, pz = [3.0, 2.0, 1.0], [0.0, 0.2, -0.1], [0.0, 0.5, 0.3]
    e = [float(np.sqrt(a * a + b * b + c * c)) for a, b, c in zip(px, py, pz, strict=True)]
    deta, dphi = [0.0, 0.3, -0.2], [0.0, 0.1, 0.4]
    data = _jet(px, py, pz, e, deta, dphi, [1.0, 0.0, -1.0])
    feats = dict(zip(HIGH_LEVEL_FEATURES, high_level_features(data)[0], strict=True))
    assert len(HIGH_LEVEL_FEATURES) == 16
    m2 = sum(e) ** 2 - sum(px) ** 2 - sum(py) ** 2 - sum(pz) ** 2
    pt = np.hypot(px, py)
    z = pt / pt.sum()
    dr = np.hypot(deta, dphi)
    assert feats["mass"] == pytest.approx(np.sqrt(max(m2, 0)), rel=1e-6)
    assert feats["tau21"] == pytest.approx(0.5) and feats["tau32"] == pytest.approx(0.5)
    assert feats["n_charged"] == 2 and feats["n_particles"] == 3
    assert feats["pt_d"] == pytest.approx(np.sqrt((z**2).sum()), rel=1e-5)
    assert feats["girth"] == pytest.approx((z * dr).sum(), rel=1e-5)
    assert feats["zlogz"] == pytest.approx((z * np.log(z)).sum(), rel=1e-5)
    assert feats["lead_pt_frac"] == pytest.approx(z.max(), rel=1e-5)
    r = lambda i, j: np.hypot(deta[i] - deta[j], dphi[i] - dphi[j])  # noqa: E731
    e2 = z[0] * z[1] * r(0, 1) + z[0] * z[2] * r(0, 2) + z[1] * z[2] * r(1, 2)
    e3 = z[0] * z[1] * z[2] * r(0, 1) * r(0, 2) * r(1, 2)
    assert feats["c2_b1"] == pytest.approx(e3 / e2**2, rel=1e-4)
    assert feats["d2_b1"] == pytest.approx(e3 / e2**3, rel=1e-4)


def test_energy_correlation_ratios_match_brute_force():
    rng = np.random.default_rng(3)
    z = rng.random((2, 6))
    z /= z.sum(1, keepdims=True)
    deta, dphi = rng.normal(0, 0.3, (2, 6)), rng.normal(0, 0.3, (2, 6))
    c2, d2 = energy_correlation_ratios(z, deta, dphi, beta=2.0)
    for n in range(2):
        r = lambda i, j, n=n: np.hypot(deta[n, i] - deta[n, j], dphi[n, i] - dphi[n, j]) ** 2.0  # noqa: E731
        e2 = sum(z[n, i] * z[n, j] * r(i, j) for i, j in itertools.combinations(range(6), 2))
        e3 = sum(
            z[n, i] * z[n, j] * z[n, k] * r(i, j) * r(i, k) * r(j, k) for i, j, k in itertools.combinations(range(6), 3)
        )
        assert c2[n] == pytest.approx(e3 / e2**2, rel=1e-9)
        assert d2[n] == pytest.approx(e3 / e2**3, rel=1e-9)


def test_nsubjettiness_from_axes_hand_computed():
    # two particles (pT 1 and 3) at rapidity 0, phi 0 and 0.4; one axis at phi 0
    parts = np.array([[[1.0, 0.0, 0.0, 1.0], [3 * np.cos(0.4), 3 * np.sin(0.4), 0.0, 3.0]]])
    axes = np.array([[[1.0, 0.0, 0.0, 1.0]]])
    tau = nsubjettiness_from_axes(parts, axes, r0=0.8)
    assert tau[0] == pytest.approx(3 * 0.4 / (0.8 * 4), rel=1e-6)


def test_high_level_features_needs_substructure_branches():
    data = _jet([3.0], [0.0], [0.0], [3.0], [0.0], [0.0], [1.0])
    jets = dict(data.jets)
    del jets["sdmass"]
    from dataclasses import replace

    with pytest.raises(DataError, match="jet_sdmass"):
        high_level_features(replace(data, jets=jets))
    no_charge = replace(data, particles=data.particles[[f for f in data.particles.fields if f != "charge"]])
    with pytest.raises(DataError, match="part_charge"):
        high_level_features(no_charge)


def test_nsubjettiness_keeps_a_wide_angle_constituent_in_the_axes():
    import vector

    from hepml_nb.jets.substructure import nsubjettiness, padded_four_vectors

    vector.register_awkward()
    pt, eta = np.array([300.0, 200.0, 60.0, 20.0]), np.array([-0.05, -0.03, 0.8, -0.1])
    phi = np.array([0.0, 0.02, 0.0, -0.05])
    rec = {"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * np.sinh(eta), "E": pt * np.cosh(eta)}
    jet = ak.Array([[dict(zip(rec, v, strict=True)) for v in zip(*rec.values(), strict=True)]], with_name="Momentum4D")
    # the 60 GeV particle is about 0.8 from the jet axis and more than 0.8 from every other particle:
    # kT with R = 0.8 merges it with the beam, so the one-prong axis would miss it
    padded = padded_four_vectors(jet)
    whole_jet_axis = padded.sum(axis=1, keepdims=True)
    tau1 = nsubjettiness(jet, n_max=1)[0]
    np.testing.assert_allclose(tau1, nsubjettiness_from_axes(padded, whole_jet_axis), rtol=1e-9)


def _random_jets(n: int, seed: int = 0):
    """``n`` jets of 1 to 60 random particles, with the fields and jet arrays padded_particles needs."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 61, n)
    total = int(counts.sum())
    px, py, pz = rng.normal(0.0, 20.0, (3, total))
    fields = {
        "px": px,
        "py": py,
        "pz": pz,
        "energy": np.sqrt(px**2 + py**2 + pz**2) + 0.1,
        "deta": rng.normal(0.0, 0.3, total),
        "dphi": rng.normal(0.0, 0.3, total),
    }
    particles = ak.zip({k: ak.unflatten(v, counts) for k, v in fields.items()})
    jets = {"pt": rng.uniform(500.0, 600.0, n), "energy": rng.uniform(600.0, 900.0, n)}
    return particles, jets


def test_padded_particles_chunks_give_the_arrays_of_one_pass(monkeypatch):
    from hepml_nb.jets import features

    particles, jets = _random_jets(700)
    monkeypatch.setattr(features, "_CHUNK_JETS", 10**9)
    whole = padded_particles(particles, jets, max_particles=50, feature_set="kin")
    monkeypatch.setattr(features, "_CHUNK_JETS", 64)
    chunked = padded_particles(particles, jets, max_particles=50, feature_set="kin")
    for key in ("points", "features", "mask", "four_vectors"):
        assert chunked[key].dtype == whole[key].dtype, key
        np.testing.assert_array_equal(chunked[key], whole[key], err_msg=key)
    assert chunked["feature_names"] == whole["feature_names"]


def _temporary_bytes(n: int) -> int:
    """Peak bytes numpy allocated (tracemalloc sees its buffers) beyond the result, padding ``n`` jets."""
    import tracemalloc

    particles, jets = _random_jets(n, seed=1)
    tracemalloc.start()
    try:
        out = padded_particles(particles, jets, max_particles=100, feature_set="kin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - sum(a.nbytes for k, a in out.items() if k != "feature_names")


def test_padded_particles_temporaries_do_not_grow_with_the_jets():
    """Jets are padded a chunk at a time: twice the jets (both several chunks) need no more temporaries
    (one pass over all jets needed twice as much: 132 MB instead of 66 MB)."""
    small, large = _temporary_bytes(4000), _temporary_bytes(8000)
    assert large < 1.2 * small, (small / 2**20, large / 2**20)
