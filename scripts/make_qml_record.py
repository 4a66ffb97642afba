"""Write the bundled device record hepml_nb/qml/records/fake_lagos_small.json (a fake backend, not hardware).

Run: python scripts/make_qml_record.py   (about a minute on 2 cores)
"""

from __future__ import annotations

from hepml_nb import qml
from hepml_nb.qml.records import BUNDLED_RECORD


def main() -> None:
    events = qml.load_events(40, 40, seed=7, backgrounds=("gammagamma",))
    x, names = qml.diphoton_features(events)
    train, test = qml.balanced_split(events["label"], n_train=10, n_test=10, seed=7)
    fs = qml.prepare_features(
        x, events["label"], train, test, n_qubits=6, names=names, feature_range=(0.0, 3.141592653589793)
    )
    BUNDLED_RECORD.unlink(missing_ok=True)
    qml.record_device_run(
        fs,
        backend="fake:fake_lagos",
        path=BUNDLED_RECORD,
        shots=256,
        seed=7,
        entanglement="linear",
        label="fake backend fake:fake_lagos (Aer with the device's noise "
        "model): a test fixture for replay, NOT a run on real hardware",
    )
    print(qml.replay(BUNDLED_RECORD).table)


if __name__ == "__main__":
    main()
