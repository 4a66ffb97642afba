"""Device names, sizes and the provider errors every device shares."""

import pytest

from hepml_nb.core.errors import ParameterError
from hepml_nb.qml import devices as dv


@pytest.mark.parametrize(
    "name, parts",
    [
        ("fake:fake_lagos", ("fake", "fake_lagos")),
        ("fake_lagos", ("fake", "fake_lagos")),
        ("ibm_brisbane", ("ibm", "ibm_brisbane")),
        ("origin-sim:noisy", ("origin-sim", "noisy")),
        ("origin:WK_C102_400", ("origin", "WK_C102_400")),
    ],
)
def test_split_device_name_reads_prefixed_and_bare_names(name, parts):
    assert dv.split_device_name(name) == parts


@pytest.mark.parametrize("name", ["qasm", "rigetti:aspen", "fake:", "origin:"])
def test_split_device_name_rejects_unknown_names_listing_the_forms(name):
    with pytest.raises(ParameterError, match=f"unknown device '{name}'.*fake:<name>, ibm:<name>, origin-sim:noisy"):
        dv.split_device_name(name)


def test_check_size_rejects_a_device_with_too_few_qubits():
    dv.check_size("fake:fake_lagos", 7, 6)
    with pytest.raises(dv.BackendTooSmallError, match="'fake:fake_manila' has 5 qubits, fewer than the 6"):
        dv.check_size("fake:fake_manila", 5, 6)


def test_provider_error_names_the_fix_without_the_providers_text():
    secret = "tok-9f1c"
    token = dv.provider_error(RuntimeError(f"401 Unauthorized for {secret}"), device="ibm:x", provider="ibm")
    assert isinstance(token, dv.TokenError) and f"${dv.IBM_TOKEN_ENV}" in str(token) and secret not in str(token)
    origin = dv.provider_error(ValueError("invalid api key"), device="origin:y", provider="origin")
    assert isinstance(origin, dv.TokenError) and f"${dv.ORIGIN_TOKEN_ENV}" in str(origin)
    closed = dv.provider_error(RuntimeError("The session is closed"), device="ibm:x", provider="ibm")
    assert isinstance(closed, dv.SessionClosedError) and "run again with the same record" in str(closed)
    assert dv.provider_error(RuntimeError("queue full"), device="ibm:x", provider="ibm") is None
