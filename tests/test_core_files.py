"""check_input_file: missing, folder, unreadable, empty, wrong signature, truncated ROOT, good files."""

import gzip
import os

import h5py
import numpy as np
import pytest
import uproot

from hepml_nb.core.errors import DataError
from hepml_nb.core.files import check_input_file


@pytest.fixture
def root_file(tmp_path):
    path = tmp_path / "good.root"
    with uproot.recreate(path) as f:
        f.mktree("tree", {"x": np.float64}).extend({"x": np.arange(100.0)})
    return path


def test_check_input_file_accepts_root_and_hdf5(root_file, tmp_path):
    assert check_input_file(root_file, kind="root", what="jet file") == root_file.resolve()
    with h5py.File(tmp_path / "a.h5", "w") as fh:
        fh["x"] = np.zeros(3)
    assert check_input_file(str(tmp_path / "a.h5"), kind="hdf5", what="shower file").name == "a.h5"


def test_check_input_file_accepts_hdf5_with_user_block(tmp_path):
    with h5py.File(tmp_path / "ub.h5", "w", userblock_size=1024) as fh:
        fh["x"] = np.zeros(3)
    assert check_input_file(tmp_path / "ub.h5", kind="hdf5", what="shower file").is_file()


def test_check_input_file_rejects_missing_path(tmp_path):
    with pytest.raises(DataError, match=r"jet file .*absent\.root not found; check the path"):
        check_input_file(tmp_path / "absent.root", kind="root", what="jet file")
    with pytest.raises(DataError, match=r"not found \(the folder .*nodir does not exist either\)"):
        check_input_file(tmp_path / "nodir" / "x.h5", kind="hdf5", what="shower file")


def test_check_input_file_rejects_folder_and_fifo(tmp_path):
    with pytest.raises(DataError, match=r"is a folder, not a file; .* a glob such as '.*/\*\.root'"):
        check_input_file(tmp_path, kind="root", what="jet file")
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(DataError, match="is not a regular file"):
        check_input_file(tmp_path / "pipe", kind="root", what="jet file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_check_input_file_rejects_unreadable(root_file):
    root_file.chmod(0)
    with pytest.raises(DataError, match=r"cannot be read .*chmod u\+r"):
        check_input_file(root_file, kind="root", what="jet file")


def test_check_input_file_rejects_empty_file(tmp_path):
    (tmp_path / "empty.root").touch()
    with pytest.raises(DataError, match=r"jet file .*empty\.root is empty \(0 bytes\)"):
        check_input_file(tmp_path / "empty.root", kind="root", what="jet file")


def test_check_input_file_rejects_text_file(tmp_path):
    (tmp_path / "notes.root").write_text("hello world")
    with pytest.raises(
        DataError,
        match=r"is not a ROOT file \(no ROOT file header\): it looks like a text file; give a ROOT file "
        r"written by uproot or ROOT \(JetClass schema, tree 'tree'\)",
    ):
        check_input_file(tmp_path / "notes.root", kind="root", what="jet file", schema="JetClass schema, tree 'tree'")
    with pytest.raises(DataError, match=r"is not an HDF5 file \(no HDF5 signature\): it looks like a text file"):
        check_input_file(tmp_path / "notes.root", kind="hdf5", what="shower file")


def test_check_input_file_names_other_formats(root_file, tmp_path):
    (tmp_path / "x.root.gz").write_bytes(gzip.compress(root_file.read_bytes()))
    with pytest.raises(DataError, match="it is a gzip archive; decompress it first"):
        check_input_file(tmp_path / "x.root.gz", kind="root", what="jet file")
    with pytest.raises(DataError, match="not an HDF5 file .*it is a ROOT file"):
        check_input_file(root_file, kind="hdf5", what="shower file")
    (tmp_path / "lfs.h5").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\n")
    with pytest.raises(DataError, match="Git LFS pointer"):
        check_input_file(tmp_path / "lfs.h5", kind="hdf5", what="shower file")


def test_check_input_file_rejects_truncated_root(root_file, tmp_path):
    data = root_file.read_bytes()
    (tmp_path / "half.root").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        DataError,
        match=rf"half\.root is truncated: its header says {len(data)} bytes but it has "
        rf"{len(data) // 2}",
    ):
        check_input_file(tmp_path / "half.root", kind="root", what="jet file")


def test_check_input_file_rejects_unknown_kind(root_file):
    with pytest.raises(DataError, match="unknown file kind 'parquet'; choose one of: root, hdf5"):
        check_input_file(root_file, kind="parquet", what="jet file")


# --- issue 22: a symlink to a text file is named with its target; content is never echoed


PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"


def test_check_input_file_text_starting_with_root_is_not_root(tmp_path):
    (tmp_path / "passwd").write_text(PASSWD)
    (tmp_path / "jets.root").symlink_to(tmp_path / "passwd")
    with pytest.raises(DataError) as info:
        check_input_file(tmp_path / "jets.root", kind="root", what="jet file")
    text = str(info.value)
    assert "root:x" not in text and "bin/bash" not in text and "truncated" not in text  # today: "truncated"
    assert f"jet file {tmp_path / 'jets.root'} (a symbolic link to {tmp_path / 'passwd'})" in text
    assert "is not a ROOT file (no ROOT file header): it looks like a text file" in text


def test_check_input_file_symlink_to_text_named_without_its_content(tmp_path):
    (tmp_path / "passwd").write_text(PASSWD)
    (tmp_path / "showers.h5").symlink_to(tmp_path / "passwd")
    with pytest.raises(DataError) as info:
        check_input_file(tmp_path / "showers.h5", kind="hdf5", what="shower file")
    text = str(info.value)
    assert "root:x" not in text and "a ROOT file" not in text  # today: b'root:x:0:0:root:/' ...: it is a ROOT file
    assert f"shower file {tmp_path / 'showers.h5'} (a symbolic link to {tmp_path / 'passwd'})" in text
    assert "is not an HDF5 file (no HDF5 signature): it looks like a text file" in text
    (tmp_path / "blob.h5").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"blob\.h5 is not an HDF5 file \(no HDF5 signature\): it holds binary data"):
        check_input_file(tmp_path / "blob.h5", kind="hdf5", what="shower file")


def test_read_regular_file_refuses_links_folders_and_large_files(tmp_path):
    from hepml_nb.core.files import read_regular_file

    target = tmp_path / "a.txt"
    target.write_bytes(b"12345")
    assert read_regular_file(target, limit=5, what="the file") == b"12345"
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(DataError, match=r"the file .*link cannot be opened .*: a link or an unreadable file"):
        read_regular_file(tmp_path / "link", limit=5, what="the file")
    with pytest.raises(DataError, match="is not a regular file of at most 4 bytes"):
        read_regular_file(target, limit=4, what="the file")
    with pytest.raises(DataError, match="is not a regular file"):
        read_regular_file(tmp_path, limit=4, what="the file")
