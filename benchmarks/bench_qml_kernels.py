"""Kernel speed: closed-form exact kernel vs qiskit-machine-learning, the 12k training kernel, device simulators.

Prints (1) kernel entries per second of qiskit-machine-learning's FidelityQuantumKernel and
FidelityStatevectorKernel next to hepml_nb's exact kernel, (2) the 12,000 x 12,000 training
kernel in float64 and float32 (blocked upper triangle, goal: at most 3 s in float64 on 2
cores), (3) circuits per second of each device simulator (fake IBM backend on Aer, Origin
Quantum's pyqpanda3 density-matrix simulator with and without noise).

Run: python benchmarks/bench_qml_kernels.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _rate(fn, n_entries: int) -> tuple[float, float]:
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    return n_entries / seconds, seconds


def _cpu_seconds(fn) -> tuple[float, float]:
    """Wall and CPU seconds (all threads) of ``fn()``; CPU time is the fairer figure on a shared machine."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (about 20 s)")
    parser.add_argument("--qubits", type=int, default=6)
    args = parser.parse_args()
    from qiskit.circuit.library import zz_feature_map
    from qiskit_machine_learning.kernels import FidelityQuantumKernel, FidelityStatevectorKernel

    from hepml_nb.qml.kernels import exact_kernel

    n_fqk, n_fsv, n_ours, n_big = (12, 150, 2000, 4000) if args.quick else (30, 600, 4000, 12000)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, np.pi, (n_big, args.qubits))
    fmap = zz_feature_map(args.qubits)
    rows = {
        "FidelityQuantumKernel": _rate(
            lambda: FidelityQuantumKernel(feature_map=fmap).evaluate(x[:n_fqk]), n_fqk * (n_fqk - 1) // 2
        ),
        "FidelityStatevectorKernel": _rate(
            lambda: FidelityStatevectorKernel(feature_map=fmap).evaluate(x[:n_fsv]), n_fsv * n_fsv
        ),
        "hepml_nb exact_kernel": _rate(lambda: exact_kernel(x[:n_ours]), n_ours * n_ours),
    }
    ours = rows["hepml_nb exact_kernel"][0]
    print(f"{args.qubits} qubits, ZZ feature map reps=2 full entanglement")
    for name, (rate, seconds) in rows.items():
        print(f"{name:28s} {rate:14.3e} entries/s  ({seconds:7.2f} s)  ours/this = {ours / rate:10.1f}")
    for dtype in (np.float64, np.float32):
        seconds, cpu = _cpu_seconds(lambda dtype=dtype: exact_kernel(x, dtype=dtype))
        print(
            f"training kernel {n_big} x {n_big} ({np.dtype(dtype).name}): {seconds:.2f} s wall, {cpu:.2f} CPU s "
            f"({n_big * n_big / seconds:.3e} entries/s)"
        )
    _device_rates(x, n_events=8 if args.quick else 16)


def _device_rates(x: np.ndarray, *, n_events: int, shots: int = 1024) -> None:
    """Circuits per second of the device simulators on a training kernel (n(n-1)/2 circuits), linear entanglement."""
    from hepml_nb.qml.backends import device_kernel

    n_circuits = n_events * (n_events - 1) // 2
    for name in ("fake:fake_lagos", "origin-sim:noisy", "origin-sim:ideal"):
        device_kernel(x[:3], backend=name, shots=shots, entanglement="linear")  # transpile and warm up
        rate, seconds = _rate(
            lambda name=name: device_kernel(x[:n_events], backend=name, shots=shots, entanglement="linear"), n_circuits
        )
        print(
            f"device kernel {name:18s} {rate:8.1f} circuits/s  ({n_circuits} circuits x {shots} shots, {seconds:.2f} s)"
        )


if __name__ == "__main__":
    main()
