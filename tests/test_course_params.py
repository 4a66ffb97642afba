import pytest
from conftest import write_notebook

from hepml_nb.core.errors import ParameterError
from hepml_nb.course.params import Parameter, coerce_value, format_parameters, read_parameters, validate_parameters


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


# --- issue 22, weak spots "values": each refused with a ParameterError before anything runs


def test_validate_parameters_rejects_a_string_that_is_not_utf8(params):
    with pytest.raises(
        ParameterError, match=r"parameter 'model' holds bytes that are not UTF-8 text \('lite\\udcff'\)"
    ):
        validate_parameters(params, {"model": "lite\udcff"})  # argv bytes b"lite\xff" as Python decodes them
    with pytest.raises(ParameterError, match="not UTF-8"):
        validate_parameters(params, {"data_path": ["a.root", {"k\udcfe": 1}]})


def test_validate_parameters_converts_numpy_values_to_python_numbers(params):
    np = pytest.importorskip("numpy")
    values = {"lr": np.float64(0.7), "n_jets": np.int64(5), "use_gpu": np.bool_(True), "sizes": np.array([1, 2])}
    got = validate_parameters(params, values)
    assert got == {"lr": 0.7, "n_jets": 5, "use_gpu": True, "sizes": [1, 2]}
    assert [type(v) for v in got.values()] == [float, int, bool, list] and type(got["sizes"][0]) is int
    assert validate_parameters(params, {"lr": np.array(0.25)}) == {"lr": 0.25}  # a 0-d array
    with pytest.raises(ParameterError, match="give a finite number"):
        validate_parameters(params, {"lr": np.float32("nan")})


def test_coerce_value_checks_list_elements_against_the_default(params):
    assert coerce_value(params["sizes"], "[4, 8]") == [4, 8]
    with pytest.raises(ParameterError, match=r"parameter 'sizes' expects a list of integers .*element 0 is True"):
        coerce_value(params["sizes"], [True, "x", None, {}])
    with pytest.raises(ParameterError, match=r"element 1 is 2\.5"):
        coerce_value(params["sizes"], [1, 2.5])


def test_check_rules_windows_sizes_and_patterns(tmp_path):
    from hepml_nb.course.params import Cost, check_rules, matching, size, window

    nb = write_notebook(
        tmp_path / "w.ipynb",
        "window_gev = [1.0, 2.0]  # a window\nn_items = 10  # items\nkind = 'ap_fixed<8,3>'  # a type",
    )
    params = read_parameters(nb)
    rules = {
        "window_gev": window(0.0, 10.0),
        "n_items": size(1, 1000, Cost("item", bytes=2.0**20, seconds=0.5, basis="measured")),
        "kind": matching(r"ap_fixed<\d+,\d+>", "ap_fixed<W,I>"),
    }
    check_rules(params, {}, rules)
    with pytest.raises(
        ParameterError, match=r"'window_gev' got \[2\.0, 1\.0\]; allowed: each 0 to 10; 2 increasing numbers"
    ):
        check_rules(params, {"window_gev": [2.0, 1.0]}, rules)
    with pytest.raises(ParameterError, match=r"'window_gev' got \[1\.0\]; allowed: each 0 to 10; 2 increasing numbers"):
        check_rules(params, {"window_gev": [1.0]}, rules)
    with pytest.raises(ParameterError, match=r"'window_gev' got 11\.0; allowed: .*each 0 to 10"):
        check_rules(params, {"window_gev": [1.0, 11.0]}, rules)
    with pytest.raises(
        ParameterError,
        match=r"'n_items' got 1000000000000; at most 1000: 1e\+12 items would need about 931 PiB of memory and "
        r"about 1\.58e\+04 years of CPU time \(1 MiB and 0\.5 s per item: measured\)",
    ):
        check_rules(params, {"n_items": 10**12}, rules)
    with pytest.raises(ParameterError, match=r"'kind' got 'ap_fixed<8,\\n3>'; allowed: ap_fixed<W,I>"):
        check_rules(params, {"kind": "ap_fixed<8,\n3>"}, rules)
