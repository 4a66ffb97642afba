"""The catalog's rules agree with the notebooks' parameters and with the library's own choices."""

import pytest

from hepml_nb.core.catalog import TOPICS, check_device_name, notebook_path
from hepml_nb.core.errors import ParameterError
from hepml_nb.core.params import check_rules, read_parameters


@pytest.mark.parametrize("topic", list(TOPICS))
def test_rules_name_real_parameters_and_accept_the_defaults(topic):
    params = read_parameters(notebook_path(topic))
    rules = TOPICS[topic].rules
    assert set(rules) <= set(params)
    check_rules(params, {}, rules)  # the notebook's own defaults are allowed values
    for profile in TOPICS[topic].profiles.values():
        check_rules(params, dict(profile), {k: r for k, r in rules.items() if r.validator is None})


def test_choices_equal_the_library_constants():
    from hepml_nb.fpga.hls import STRATEGIES, SYNTHESIS_MODES
    from hepml_nb.jets.baseline import BASELINES
    from hepml_nb.jets.datasets import TASKS
    from hepml_nb.jets.detector import DETECTORS
    from hepml_nb.jets.features import FEATURE_SETS
    from hepml_nb.jets.models import TAGGERS
    from hepml_nb.qml.events import BACKGROUNDS
    from hepml_nb.qml.features import PREPARE_METHODS
    from hepml_nb.qml.kernels import ENTANGLEMENTS

    rules = {key: topic.rules for key, topic in TOPICS.items()}
    assert rules["particlenet"]["taggers"].choices == TAGGERS and rules["particlenet"]["taggers"].items
    assert set(rules["particlenet"]["task"].choices) == set(TASKS)
    assert set(rules["particlenet"]["detector"].choices) == set(DETECTORS)
    assert set(rules["particlenet"]["feature_set"].choices) == set(FEATURE_SETS)
    assert rules["particlenet"]["baseline_kind"].choices == BASELINES
    assert rules["qml"]["backgrounds"].choices == BACKGROUNDS
    assert rules["qml"]["feature_method"].choices == PREPARE_METHODS
    assert rules["qml"]["entanglement"].choices == ENTANGLEMENTS
    assert rules["fpga"]["strategy"].choices == STRATEGIES
    assert rules["fpga"]["run_synthesis"].choices == SYNTHESIS_MODES


@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:1"])
def test_check_device_name_accepts_torch_names(name):
    assert check_device_name(name) == name


def test_check_device_name_rejects_others():
    with pytest.raises(ParameterError, match="device 'gpu0' is not a device name; choose one of: auto, cpu"):
        check_device_name("gpu0")
