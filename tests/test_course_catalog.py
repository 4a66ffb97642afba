"""The catalog's rules agree with the notebooks' parameters and with the library's own choices."""

import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.core.topics import check_device_name
from hepml_nb.course.catalog import TOPICS, discover_topics, notebook_path
from hepml_nb.course.params import check_rules, read_parameters


@pytest.mark.parametrize("topic", list(TOPICS))
def test_rules_name_real_parameters_and_accept_the_defaults(topic):
    params = read_parameters(notebook_path(topic))
    rules = TOPICS[topic].rules
    assert set(rules) <= set(params)
    check_rules(params, {}, rules)  # the notebook's own defaults are allowed values
    for profile in TOPICS[topic].profiles.values():
        check_rules(params, dict(profile), {k: r for k, r in rules.items() if r.validator is None})


def test_catalog_assembles_the_spec_of_every_topic_package():
    from hepml_nb.calo.spec import TOPIC as calo
    from hepml_nb.jets.spec import TOPIC as jets

    assert list(TOPICS) == ["setup", "particlenet", "qml", "calogan", "fpga"]
    assert TOPICS["particlenet"] is jets and TOPICS["calogan"] is calo


def test_a_new_topic_is_its_package_and_spec(tmp_path, monkeypatch):
    package = tmp_path / "toyhep"
    (package / "optics").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "optics" / "__init__.py").write_text("")
    (package / "optics" / "spec.py").write_text(
        "from hepml_nb.core.rules import between\nfrom hepml_nb.core.topics import topic\n"
        "TOPIC = topic('optics', '05_optics.ipynb', 'Optics', 'lenses', rules={'focus': between(0, 1)})\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import toyhep

    found = discover_topics(toyhep)
    assert list(found) == ["optics"] and found["optics"].rules["focus"].maximum == 1


def test_spec_modules_import_no_heavy_package():
    import subprocess
    import sys

    heavy = ("torch", "uproot", "qiskit", "h5py", "hls4ml", "awkward", "pythia8mc")
    code = f"import sys; from hepml_nb.course.catalog import TOPICS; print(sorted(set({heavy}) & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:1"])
def test_check_device_name_accepts_torch_names(name):
    assert check_device_name(name) == name


def test_check_device_name_rejects_others():
    with pytest.raises(ParameterError, match="device 'gpu0' is not a device name; choose one of: auto, cpu"):
        check_device_name("gpu0")


# --- issue 22, weak spots "values": the catalog's rules refuse these before any kernel starts


@pytest.mark.parametrize(
    "topic,name,value,match",
    [
        ("qml", "mass_window", [True, "x", None, {}], r"'mass_window' expects a list of numbers"),
        (
            "qml",
            "mass_window",
            [135.0, 115.0],
            r"'mass_window' got \[135\.0, 115\.0\]; allowed: each 0 to 240; 2 increasing",
        ),
        ("qml", "mass_window", [115.0, 300.0], r"'mass_window' got 300\.0; allowed: each 0 to 240"),
        ("qml", "resolution", [0.1], r"'resolution' got \[0\.1\]; allowed: each 0 to 5; 2 numbers"),
        ("qml", "feature_range", [1.0, 1.0], r"'feature_range' got \[1\.0, 1\.0\]; allowed: .*; 2 increasing"),
        ("qml", "train_sizes", [40, 80.5], r"'train_sizes' expects a list of integers"),
        ("qml", "train_sizes", [], r"'train_sizes' got \[\]; allowed: each 4 to 100000; at least 1 item"),
        ("particlenet", "taggers", [], r"'taggers' got \[\]; allowed: each one of: .*; at least 1 item"),
        ("fpga", "profiled_widths", [8, 100], r"'profiled_widths' got 100; allowed: each 2 to 64"),
        ("fpga", "reference_precision", "ap_fixed<16,\n6>", r"'reference_precision' got 'ap_fixed<16,\\n6>'"),
        ("fpga", "reference_precision", "ap_fixed<16,6>;x", r"allowed: an hls4ml type such as ap_fixed<16,6>"),
        ("fpga", "rtl_activation", "ap_ufixed<6,3>\n", r"'rtl_activation' got 'ap_ufixed<6,3>\\n'"),
    ],
)
def test_catalog_rules_refuse_malformed_values(topic, name, value, match):
    from hepml_nb.course.runner import prepare_run

    with pytest.raises(ParameterError, match=match):
        prepare_run(topic, "ci", {name: value})


def test_catalog_rules_accept_hls4ml_precisions_with_modes():
    from hepml_nb.course.runner import prepare_run

    merged = prepare_run("fpga", "ci", {"reference_precision": "ap_fixed<16, 6, AP_RND_CONV, AP_SAT>"}).params
    assert merged["reference_precision"] == "ap_fixed<16, 6, AP_RND_CONV, AP_SAT>"
    merged = prepare_run("qml", "ci", {"mass_window": [110, 140]}).params
    assert merged["mass_window"] == [110.0, 140.0]


#: every size-like parameter of every topic (counts of jets, events, showers, epochs, iterations, shots ...)
SIZES = {
    "setup": ("n_events",),
    "particlenet": ("n_jets_per_class", "n_test_qcd", "max_particles", "epochs", "batch_size", "n_workers"),
    "qml": (
        "n_signal",
        "n_background",
        "train_sizes",
        "n_test",
        "n_splits",
        "shot_list",
        "shot_n_train",
        "device_n_events",
        "device_shots",
    ),
    "calogan": (
        "n_eval",
        "n_train",
        "gan_iterations",
        "fm_steps",
        "classifier_epochs",
        "n_challenge",
        "n_ds2",
        "speed_batches",
    ),
    "fpga": ("n_per_class", "epochs", "batch_size", "n_emulate", "cpu_repeats", "qat_epochs", "n_rtl_sim"),
}


@pytest.mark.parametrize("topic,name", [(t, n) for t, names in SIZES.items() for n in names])
def test_catalog_sizes_have_an_upper_bound_with_their_cost(topic, name):
    from hepml_nb.course.runner import prepare_run

    params = read_parameters(notebook_path(topic))
    value = [10**12] if params[name].type_name == "list" else 10**12
    with pytest.raises(
        ParameterError, match=rf"'{name}' got 1000000000000; at most [0-9e+.]+: .*(would need|take at most)"
    ):
        prepare_run(topic, "ci", {name: value})
    maximum = TOPICS[topic].rules[name].maximum
    for profile in TOPICS[topic].profiles.values():  # generous: every profile stays well inside
        given = profile.get(name, params[name].default)
        assert max(given if isinstance(given, list) else [given]) <= maximum / 5


def test_catalog_size_message_states_the_memory_needed():
    from hepml_nb.course.runner import prepare_run

    with pytest.raises(ParameterError, match=r"1e\+12 jets would need about [0-9.]+ PiB of memory"):
        prepare_run("particlenet", "ci", {"n_jets_per_class": 10**12})


def test_prepare_run_takes_numpy_numbers_as_python_numbers():
    np = pytest.importorskip("numpy")
    from hepml_nb.course.runner import prepare_run

    merged = prepare_run("qml", "ci", {"alpha": np.float64(0.7), "n_test": np.int64(60)}).params
    assert merged["alpha"] == 0.7 and type(merged["alpha"]) is float and type(merged["n_test"]) is int
