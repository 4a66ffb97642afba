from functools import partial

import h5py
import numpy as np
import pytest

from hepml_nb.calo.data import ShowerSet
from hepml_nb.calo.gflash import simulate_showers
from hepml_nb.calo.io import (
    NEGATIVE_CELL_TOLERANCE_MEV,
    VALUE_CHECK_SHOWERS,
    check_shower_file,
    read_calogan_h5,
    read_challenge_h5,
    read_showers,
    write_calogan_h5,
    write_challenge_h5,
)
from hepml_nb.core.errors import DataError


@pytest.fixture
def ds2(seed):
    return simulate_showers(np.array([2.0, 30.0, 250.0 / 3]), geometry="dataset2", seed=seed, progress=False)


def test_write_challenge_h5_dataset2_shape_and_round_trip(ds2, tmp_path):
    path = write_challenge_h5(ds2, tmp_path / "ds2.hdf5")
    with h5py.File(path) as fh:
        assert fh["showers"].shape == (3, 6480) and fh["incident_energies"].shape == (3, 1)
        assert np.allclose(fh["incident_energies"][:, 0], 1000 * ds2.e_inc)  # MeV in the file
    back = read_challenge_h5(path)
    assert back.geometry == "dataset2"
    assert np.array_equal(back.cells, ds2.cells)
    np.testing.assert_allclose(back.e_inc, ds2.e_inc, rtol=1e-14)
    assert np.array_equal(read_showers(path).cells, ds2.cells)


def test_write_calogan_h5_round_trip(seed, tmp_path):
    showers = simulate_showers(np.array([5.0, 50.0]), seed=seed, progress=False)
    path = write_calogan_h5(showers, tmp_path / "eplus.hdf5")
    with h5py.File(path) as fh:
        assert fh["layer_0"].shape == (2, 3, 96) and fh["layer_2"].shape == (2, 12, 6)
        assert fh["energy"].shape == (2, 1)
    back = read_showers(path)
    assert back.geometry == "calogan" and np.array_equal(back.cells, showers.cells)
    assert len(read_calogan_h5(path, n=1)) == 1


def test_write_calogan_h5_rejects_other_geometry(ds2, tmp_path):
    with pytest.raises(DataError, match="holds 'calogan' showers only, got geometry 'dataset2'"):
        write_calogan_h5(ds2, tmp_path / "x.h5")


def test_read_challenge_h5_wrong_shape(tmp_path):
    path = write_challenge_h5(ShowerSet(np.ones(2), np.zeros((2, 368), np.float32), "calogan"), tmp_path / "ds1.h5")
    with pytest.raises(
        DataError,
        match=r"'showers' has shape \(2, 368\), expected \(2, 6480\) for geometry 'dataset2' \(368 voxels is "
        r"the layout of CaloChallenge dataset 1 \(photons, geometry 'dataset1-photons'\)\)",
    ):
        read_challenge_h5(path, geometry="dataset2")


@pytest.mark.parametrize(
    "n_voxels, geometry",
    [(368, "dataset1-photons"), (533, "dataset1-pions"), (6480, "dataset2"), (40500, "dataset3"), (504, "calogan")],
)
def test_challenge_file_matched_to_geometry_by_voxel_count(tmp_path, n_voxels, geometry):
    """issue #11, defect 4: the geometry of a challenge file follows from its voxel count."""
    path = _challenge(tmp_path / f"{geometry}.h5", cells=_cells(n_voxels))
    assert check_shower_file(path) == "challenge"
    for showers in (read_showers(path), read_challenge_h5(path, n=2)):
        assert showers.geometry == geometry and showers.cells.shape[1] == n_voxels
    np.testing.assert_allclose(read_showers(path).e_inc, E_GEV)


def test_dataset1_file_reads_and_gets_challenge_features(tmp_path):
    from hepml_nb.calo.features import shower_features

    showers = read_showers(_challenge(tmp_path / "pions.h5", cells=_cells(533)))
    f = shower_features(showers)
    assert showers.geometry == "dataset1-pions" and "EC_eta_13" in f and "EC_eta_14" not in f
    np.testing.assert_allclose(f["etot_over_einc"], 0.9, rtol=1e-5)


def test_calogan_overflow_written_and_read(seed, tmp_path):
    """issue #11, defect 3: GFlash's overflow reaches the CaloGAN file's 'overflow' instead of zeros."""
    from dataclasses import replace

    from hepml_nb.calo.geometry import get_geometry

    small = replace(get_geometry("calogan"), extent_mm=(30.0, 30.0))
    showers = simulate_showers(np.array([20.0, 60.0]), geometry=small, seed=seed, progress=False)
    assert showers.overflow[:, :2].min() > 0
    path = write_calogan_h5(showers, tmp_path / "of.h5")
    with h5py.File(path) as fh:
        assert fh["overflow"].shape == (2, 3)
        np.testing.assert_array_equal(fh["overflow"][()], showers.overflow)
    back = read_calogan_h5(path)
    np.testing.assert_array_equal(back.overflow, showers.overflow)
    assert read_calogan_h5(path, n=1).overflow.shape == (1, 3)
    none = _calogan(tmp_path / "none.h5")  # showers without overflow: zeros, as before
    assert (read_calogan_h5(none).overflow == 0).all()
    with h5py.File(path, "a") as fh:
        del fh["overflow"]
        fh["overflow"] = np.zeros((2, 4))
    with pytest.raises(DataError, match=r"'overflow' is \(2, 4\), expected \(2, 3\)"):
        check_shower_file(path)
    with pytest.raises(DataError, match="overflow of the showers has shape"):
        write_calogan_h5(ShowerSet(showers.e_inc, showers.cells, "calogan", np.zeros((2, 5))), tmp_path / "x.h5")


def test_read_calogan_h5_missing_key_and_bad_layer(tmp_path):
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as fh:
        fh["energy"] = np.ones((2, 1))
        fh["layer_0"] = np.zeros((2, 3, 96))
        fh["layer_1"] = np.zeros((2, 12, 12))
    with pytest.raises(DataError, match=r"not a CaloGAN file: keys \['layer_2'\] missing"):
        read_calogan_h5(path)
    with h5py.File(path, "a") as fh:
        fh["layer_2"] = np.zeros((2, 6, 12))
    with pytest.raises(DataError, match=r"layer_2 has shape \(2, 6, 12\), expected \(2, 12, 6\)"):
        read_calogan_h5(path)


def test_read_showers_unknown_format_and_missing_file(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as fh:
        fh["data"] = np.zeros(3)
    with pytest.raises(DataError, match="neither CaloGAN"):
        read_showers(path)
    with pytest.raises(DataError, match="not found"):
        read_showers(tmp_path / "nope.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(
        DataError, match=r"shower file .*text\.h5 is not an HDF5 file \(no HDF5 signature\): it looks like a text"
    ):
        read_showers(tmp_path / "text.h5")


# --- bad shower files and values (issue #10, defects 4 and 5): a DataError about the file, not the simulation

E_GEV = np.array([10.0, 20.0, 50.0, 80.0])


def _cells(n_cells=504, e_gev=E_GEV, response=0.9):
    """Uniform showers depositing ``response`` of the incident energy [MeV], float32."""
    return np.repeat((response * 1000 * e_gev / n_cells)[:, None], n_cells, axis=1).astype(np.float32)


def _challenge(path, e_mev=1000 * E_GEV, cells=None, **extra):
    """A CaloChallenge-format file written directly with h5py (504 voxels: read with geometry 'calogan')."""
    with h5py.File(path, "w") as fh:
        fh["incident_energies"] = np.asarray(e_mev, np.float64)[:, None]
        fh["showers"] = _cells() if cells is None else cells
        for key, value in extra.items():
            fh[key] = value
    return path


def _calogan(path, energy=E_GEV, cells=None):
    cells = _cells() if cells is None else cells
    return write_calogan_h5(ShowerSet(np.asarray(energy, float), cells, "calogan"), path)


def test_check_shower_file_accepts_good_files(ds2, tmp_path):
    assert check_shower_file(write_challenge_h5(ds2, tmp_path / "ds2.h5"), n=3) == "challenge"
    assert check_shower_file(_calogan(tmp_path / "cg.h5"), n=4, geometry="calogan") == "calogan"
    assert check_shower_file(_challenge(tmp_path / "ch.h5"), geometry="calogan") == "challenge"
    cells = _cells()
    cells[0, :3] = NEGATIVE_CELL_TOLERANCE_MEV / 2  # rounding noise within the tolerance is accepted
    assert len(read_showers(_challenge(tmp_path / "noise.h5", cells=cells), geometry="calogan")) == 4


def test_check_shower_file_rejects_missing_empty_and_truncated(tmp_path):
    with pytest.raises(DataError, match=r"shower file .*nope\.h5 not found"):
        check_shower_file(tmp_path / "nope.h5")
    (tmp_path / "empty.h5").touch()
    with pytest.raises(DataError, match=r"shower file .*empty\.h5 is empty \(0 bytes\)"):
        read_showers(tmp_path / "empty.h5")
    data = _calogan(tmp_path / "good.h5").read_bytes()
    (tmp_path / "half.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"half\.h5 is not a readable HDF5 file \(.*truncated.*\); it is truncated"):
        check_shower_file(tmp_path / "half.h5")


def test_check_shower_file_rejects_wrong_keys(tmp_path):
    path = tmp_path / "singular.h5"
    with h5py.File(path, "w") as fh:
        fh["incident_energy"] = 1000 * E_GEV[:, None]
        fh["showers"] = _cells()
    with pytest.raises(
        DataError,
        match=r"not a CaloChallenge file: keys \['incident_energies'\] missing \(found "
        r"\['incident_energy', 'showers'\]\)",
    ):
        read_showers(path)  # today: "neither CaloGAN nor CaloChallenge"
    with h5py.File(tmp_path / "group.h5", "w") as fh:
        fh["incident_energies"] = 1000 * E_GEV[:, None]
        fh.create_group("showers")
    with pytest.raises(DataError, match="'showers' is a group, not a numeric dataset"):
        check_shower_file(tmp_path / "group.h5")


def test_check_shower_file_rejects_voxel_count_of_no_layout(tmp_path):
    path = _challenge(tmp_path / "odd.h5", cells=_cells(1000))
    with pytest.raises(
        DataError,
        match=r"odd\.h5: 'showers' has 1000 voxels per shower, which matches no known layout \(known voxel counts: "
        r"368 \(CaloChallenge dataset 1 \(photons, geometry 'dataset1-photons'\)\), 504 .*40500 .*\); give a file "
        r"of one of these datasets, or pass the geometry",
    ):
        check_shower_file(path)
    with pytest.raises(DataError, match="matches no known layout"):
        read_showers(path)
    with pytest.raises(DataError, match="matches no known layout"):
        read_challenge_h5(path)
    with pytest.raises(
        DataError,
        match=r"'showers' has shape \(4, 1000\), expected \(4, 6480\) for geometry 'dataset2' \(1000 voxels "
        r"matches no known layout: 368",
    ):
        check_shower_file(path, geometry="dataset2")


def test_check_shower_file_rejects_too_few_showers(tmp_path):
    path = _calogan(tmp_path / "small.h5")
    with pytest.raises(
        DataError,
        match=r"small\.h5 holds 4 showers but 6000 are needed \(n=6000\); ask for fewer "
        r"showers \(in the calogan notebook the file must hold 2 \* n_eval \+ 100: two evaluation samples",
    ):
        check_shower_file(path, n=6000)


def test_read_showers_rejects_nan_energies(tmp_path):
    e_mev = 1000 * E_GEV
    e_mev[2] = np.nan
    path = _challenge(tmp_path / "nan_e.h5", e_mev=e_mev)
    with pytest.raises(
        DataError,
        match=r"nan_e\.h5: 'incident_energies' is nan \(not finite\) for 1 of 4 showers "
        r"checked \(first: shower 2\)",
    ):
        read_showers(path, geometry="calogan")
    with pytest.raises(DataError, match="'incident_energies' is nan"):
        check_shower_file(path, geometry="calogan")
    energy = E_GEV.copy()
    energy[0] = np.inf
    with pytest.raises(DataError, match=r"'energy' is inf \(not finite\) for 1 of 4 showers checked \(first: shower 0"):
        read_calogan_h5(_calogan(tmp_path / "inf_e.h5", energy=energy))


def test_read_showers_rejects_non_positive_energies(tmp_path):
    path = _calogan(tmp_path / "zero_e.h5", energy=[10.0, 0.0, -5.0, 80.0])
    with pytest.raises(
        DataError,
        match=r"'energy' is 0.0 \(not positive\) for 2 of 4 showers checked \(first: "
        r"shower 1\); incident energies must be > 0",
    ):
        read_showers(path)


def test_read_showers_rejects_nan_cells(tmp_path):
    cells = _cells()
    cells[3, 17] = np.nan
    path = _calogan(tmp_path / "nan_cells.h5", cells=cells)
    with pytest.raises(
        DataError,
        match=r"1 cell energies are NaN or inf, in 1 of 4 showers checked \(first: shower 3, "
        r"cell 17\)",
    ):
        read_showers(path)
    with pytest.raises(DataError, match="NaN or inf"):
        check_shower_file(path)


def test_read_showers_rejects_nan_cells_beyond_first_block(tmp_path):
    n = VALUE_CHECK_SHOWERS + 5
    energy = np.full(n, 10.0)
    cells = _cells(e_gev=energy)
    cells[n - 1, 0] = np.inf
    path = _challenge(tmp_path / "late.h5", e_mev=1000 * energy, cells=cells)
    check_shower_file(path, geometry="calogan")  # only the first block is checked up front
    with pytest.raises(DataError, match=rf"NaN or inf, in 1 of 5 showers checked \(first: shower {n - 1}, cell 0\)"):
        read_challenge_h5(path, geometry="calogan")  # the reader checks every shower it reads


def test_read_showers_rejects_negative_cells(tmp_path):
    cells = _cells()
    cells[1, :10] = -2.5
    path = _challenge(tmp_path / "neg.h5", cells=cells)
    with pytest.raises(
        DataError,
        match=r"neg\.h5: 10 cells are negative, down to -2.5 MeV, in 1 of 4 showers checked "
        r"\(first: shower 1\); the tolerance is -0.001 MeV.*standardised or "
        r"log-transformed",
    ):
        read_showers(path, geometry="calogan")
    with pytest.raises(DataError, match="cells are negative"):
        check_shower_file(_calogan(tmp_path / "neg_cg.h5", cells=cells))


def test_read_showers_rejects_gev_instead_of_mev(tmp_path):
    path = _challenge(tmp_path / "e_gev.h5", e_mev=E_GEV)
    with pytest.raises(
        DataError,
        match=r"median E_tot/E_inc = sum\(showers\) / incident_energies is 900, outside "
        r"the physical range 0.003 to 3: 'incident_energies' look like GeV, but the "
        r"format stores MeV: multiply them by 1000",
    ):
        read_showers(path, geometry="calogan")
    path = _challenge(tmp_path / "cells_gev.h5", cells=_cells() / 1000)
    with pytest.raises(DataError, match=r"is 0.0009, outside .*'showers' look like GeV.*multiply them by 1000"):
        check_shower_file(path, geometry="calogan")


def test_read_calogan_rejects_energy_in_mev(tmp_path):
    path = _calogan(tmp_path / "e_mev.h5", energy=1000 * E_GEV)
    with pytest.raises(
        DataError,
        match=r"sum\(cells\) / \(1000 \* energy\) is 0.0009, .*'energy' looks like MeV "
        r"\(median 3.5e\+04, which would be 35 TeV in GeV\), but CaloGAN stores GeV",
    ):
        read_calogan_h5(path)
    with pytest.raises(DataError, match="the layer cells look like GeV"):
        check_shower_file(_calogan(tmp_path / "cells_gev.h5", cells=_cells() / 1000))


def test_read_showers_rejects_empty_showers(tmp_path):
    path = _calogan(tmp_path / "blank.h5", cells=np.zeros((4, 504), np.float32))
    with pytest.raises(DataError, match=r"all 4 showers checked are empty \(no cell has energy\)"):
        read_showers(path)


@pytest.mark.parametrize(
    "geometry",
    # dataset 3 (40,500 voxels a shower) with the slow tests: its layout is matched quickly in the voxel-count test
    ["dataset1-photons", "dataset1-pions", "dataset2", pytest.param("dataset3", marks=pytest.mark.slow), "calogan"],
)
def test_file_samples_splits_any_layout_into_disjoint_samples(tmp_path, geometry):
    """issue #11: the data_path route takes reference, floor and training showers, geometry and energy
    range from the file, for every published layout."""
    from conftest import toy_showers

    from hepml_nb.calo.io import MIN_TRAIN_SHOWERS, file_samples

    showers = toy_showers(geometry, 260, seed=5)
    write = write_calogan_h5 if geometry == "calogan" else write_challenge_h5
    path = write(showers, tmp_path / f"{geometry}.h5")
    split = file_samples(path, n_eval=70, n_train=500, seed=3)
    assert {s.geometry for s in split[:3]} == {geometry}
    assert (len(split.reference), len(split.floor), len(split.train)) == (70, 70, 120)
    assert split.e_min == pytest.approx(showers.e_inc.min()) and split.e_max == pytest.approx(showers.e_inc.max())
    # every shower of the file is used once: match them by incident energy (distinct floats)
    used = np.concatenate([split.reference.e_inc, split.floor.e_inc, split.train.e_inc])
    np.testing.assert_allclose(np.sort(used), np.sort(showers.e_inc), rtol=1e-6)  # float32 in CaloGAN files
    row = int(np.argmin(np.abs(showers.e_inc - split.floor.e_inc[0])))
    np.testing.assert_array_equal(split.floor.cells[0], showers.cells[row])
    assert not np.all(np.diff(split.reference.e_inc) > 0)  # shuffled, not in file order
    with pytest.raises(DataError, match="holds 260 showers but 262 are needed"):
        file_samples(path, n_eval=(260 - MIN_TRAIN_SHOWERS) // 2 + 1, n_train=500)


def test_check_reference_file_names_a_symlink_to_a_text_file_without_its_content(tmp_path):
    from hepml_nb.calo.io import check_reference_file

    (tmp_path / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (tmp_path / "showers.h5").symlink_to(tmp_path / "passwd")
    with pytest.raises(DataError) as info:
        check_reference_file(tmp_path / "showers.h5", n_eval=10)
    text = str(info.value)
    assert "root:x" not in text and "a ROOT file" not in text  # today: the first bytes, "it is a ROOT file"
    assert f"{tmp_path / 'showers.h5'} (a symbolic link to {tmp_path / 'passwd'}) is not an HDF5 file" in text
    assert "(no HDF5 signature): it looks like a text file; give an HDF5 file" in text


def test_shower_files_are_checked_and_read_through_one_open_each(tmp_path, h5_opens):
    """issue #26: the data_path route (check before the run, then file_samples in the notebook) and every
    reader open the file once (today: file_samples opened it three times)."""
    from conftest import toy_showers

    from hepml_nb.calo.io import check_reference_file, file_samples

    calogan = write_calogan_h5(toy_showers("calogan", 260, seed=1), tmp_path / "cg.h5")
    challenge = write_challenge_h5(toy_showers("dataset1-photons", 260, seed=1), tmp_path / "ch.h5")
    for path in (calogan, challenge):
        h5_opens.clear()
        check_reference_file(path, n_eval=70)
        assert h5_opens == [path.name]
        for read in (partial(file_samples, n_eval=70, n_train=50), read_showers, check_shower_file):
            h5_opens.clear()
            read(path)
            assert h5_opens == [path.name], read
    h5_opens.clear()
    read_calogan_h5(calogan), read_challenge_h5(challenge)
    assert h5_opens == ["cg.h5", "ch.h5"]
