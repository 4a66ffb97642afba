import h5py
import numpy as np
import pytest

from hepml_nb.calo.gflash import ShowerSet, simulate_showers
from hepml_nb.calo.io import (read_calogan_h5, read_challenge_h5, read_showers, write_calogan_h5,
                              write_challenge_h5)
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
    with pytest.raises(DataError, match=r"'showers' has shape \(2, 368\), expected \(2, 6480\)"):
        read_challenge_h5(path)


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
    with pytest.raises(DataError, match="not a readable HDF5 file"):
        read_showers(tmp_path / "text.h5")
