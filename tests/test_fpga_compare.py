"""hls4ml emulation beside the RTL: bit for bit when configured alike, not when accumulators or softmax differ."""

import shutil

import numpy as np
import pytest

from hepml_nb.core.errors import DataError
from hepml_nb.fpga import compare, rtl

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="hls4ml emulation needs g++ (apt-get install g++)")


def test_network_to_torch_holds_the_quantised_weights(net_483):
    model = compare.network_to_torch(net_483, softmax=True)
    assert [name for name, _ in model.named_children()] == ["fc1", "relu1", "fc2", "softmax"]
    np.testing.assert_array_equal(model.fc1.weight.detach().numpy().T, net_483.weights[0])


def test_hls_config_for_mirrors_the_rtl_types(net_483):
    config = compare.hls_config_for(net_483, compare.network_to_torch(net_483))
    names = config["LayerName"]
    assert names["relu1"]["Precision"]["result"] == "ap_ufixed<6,2,AP_TRN,AP_SAT>"
    assert names["fc2"]["Precision"]["result"] == "ap_fixed<10,4,AP_TRN,AP_SAT>"
    assert names["fc1"]["Precision"]["weight"] == f"ap_fixed<4,{4 - net_483.weight_frac[0]}>"
    assert names["fc1"]["Precision"]["result"] == compare.EXACT_TYPE


def test_compare_outputs_counts_jets():
    a = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.25]])
    b = a.copy()
    b[2, 1] = 0.75
    agreement = compare.compare_outputs(a, b)
    assert agreement.bit_exact_fraction == pytest.approx(2 / 3) and agreement.same_class_fraction == pytest.approx(
        2 / 3
    )
    assert agreement.first_difference == (2, 1) and agreement.max_abs_difference == 0.5
    with pytest.raises(DataError, match=r"must both be \(N, n_out\)"):
        compare.compare_outputs(a, b[:2])


@pytest.mark.slow
@needs_gxx
def test_hls4ml_exact_configuration_is_bit_exact_with_rtl_reference(net_483, jets, tmp_path):
    build = compare.convert_network(net_483, project_root=tmp_path)
    agreement = compare.compare_outputs(
        compare.emulate_network(build, net_483, jets), rtl.reference_logits(net_483, jets)
    )
    assert agreement.bit_exact_fraction == 1.0 and agreement.first_difference is None


@pytest.mark.slow
@needs_gxx
def test_hls4ml_narrow_layer_outputs_cannot_be_bit_exact(net_483, jets, tmp_path):
    """hls4ml's usual one-type configuration rounds (and wraps) each dense sum before the ReLU."""
    model = compare.network_to_torch(net_483)
    config = compare.hls_config_for(net_483, model)
    config["LayerName"]["fc1"]["Precision"]["result"] = "ap_fixed<6,2>"  # narrower than the exact sum
    build = compare.convert_network(net_483, config=config, project_root=tmp_path)
    agreement = compare.compare_outputs(
        compare.emulate_network(build, net_483, jets), rtl.reference_logits(net_483, jets)
    )
    assert agreement.bit_exact_fraction < 1.0
