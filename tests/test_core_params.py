import pytest
from conftest import write_notebook

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.params import Parameter, coerce_value, format_parameters, read_parameters, validate_parameters


@pytest.fixture
def params(tmp_path):
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        "n_jets = 100  # jets per class\nlr = 1e-3  # learning rate\nmodel = 'lite'  # model name\n"
        "use_gpu = False  # use CUDA\ndata_path = None  # optional input file\nsizes = [1, 2]  # layer sizes",
    )
    return read_parameters(nb)


def test_read_parameters_types_defaults_and_help(params):
    assert list(params) == ["n_jets", "lr", "model", "use_gpu", "data_path", "sizes"]
    assert params["n_jets"] == Parameter("n_jets", 100, "int", "jets per class")
    assert params["lr"].type_name == "float" and params["lr"].default == 1e-3
    assert params["data_path"].type_name == "any"
    assert params["sizes"].type_name == "list"


def test_read_parameters_rejects_non_literal(tmp_path):
    nb = write_notebook(tmp_path / "nb.ipynb", "import os\nn = len('abc')  # computed")
    with pytest.raises(ParameterError, match="not a literal"):
        read_parameters(nb)


def test_read_parameters_rejects_line_papermill_cannot_parse(tmp_path):
    nb = write_notebook(tmp_path / "nb.ipynb", "a = 1  # first\nratio = 2.0  # signal/background, s=b means 1")
    with pytest.raises(ParameterError, match="cannot read parameter 'ratio'.*no '=' in the comment"):
        read_parameters(nb)


def test_read_parameters_missing_notebook(tmp_path):
    with pytest.raises(ParameterError, match="not found"):
        read_parameters(tmp_path / "missing.ipynb")


@pytest.mark.parametrize(
    "name,text,expected",
    [
        ("n_jets", "250", 250),
        ("lr", "0.01", 0.01),
        ("lr", "2", 2.0),
        ("use_gpu", "true", True),
        ("use_gpu", "no", False),
        ("model", "full", "full"),
        ("data_path", "/data/x.root", "/data/x.root"),
        ("data_path", "none", None),
        ("sizes", "[4, 8]", [4, 8]),
    ],
)
def test_coerce_value_parses_command_line_strings(params, name, text, expected):
    assert coerce_value(params[name], text) == expected


@pytest.mark.parametrize(
    "name,value",
    [
        ("n_jets", "2.5"),
        ("n_jets", 2.5),
        ("n_jets", True),
        ("use_gpu", "maybe"),
        ("lr", "fast"),
        ("sizes", "3"),
        ("model", 3),
    ],
)
def test_coerce_value_rejects_wrong_type(params, name, value):
    with pytest.raises(ParameterError, match=f"parameter '{name}' expects"):
        coerce_value(params[name], value)


def test_validate_parameters_unknown_name_lists_valid_ones(params):
    with pytest.raises(
        ParameterError, match=r"unknown parameter 'n_jet'.*did you mean 'n_jets'.*valid parameters: n_jets, lr"
    ):
        validate_parameters(params, {"n_jet": 3})


def test_validate_parameters_converts_int_to_float(params):
    assert validate_parameters(params, {"lr": 1, "n_jets": 7}) == {"lr": 1.0, "n_jets": 7}


def test_format_parameters_lists_every_parameter(params):
    table = format_parameters(params)
    assert all(name in table for name in params) and "jets per class" in table
