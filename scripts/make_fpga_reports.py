"""Write the shipped reports of the default RTL design: hepml_nb/fpga/reports/*.json.

Run from the repository root (needs da4ml, iverilog, yosys; nextpnr-ecp5 for the timing):
``python scripts/make_fpga_reports.py [--no-place-route]``. Uses the notebook's default data and training
(2,000 jets per class, seed 0, 40 epochs), then quantisation-aware training of the default
design, the full RTL flow on 3,000 test jets, and Yosys synthesis of a handful of design
points for the out-of-sample test of the resource estimate. Steps are cached by design
hash, so a second run takes seconds.
"""

from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

import da4ml

from hepml_nb.fpga import (
    flow,
    load_jet_data,
    quantized_metrics,
    rtl,
    synth,
    tools,
    train_tagger,
    validate_resource_model,
)
from hepml_nb.fpga.quantization import design_point

OUT = Path(__file__).resolve().parents[1] / "hepml_nb" / "fpga" / "reports"
DEFAULT = {
    "method": "QAT",
    "weight_bits": 4,
    "activation_type": "ap_ufixed<6,3>",
    "prune": 0.8,
    "input_type": "ap_fixed<8,3>",
    "output_type": "ap_fixed<12,6>",
    "qat_epochs": 20,
}
POINTS = {  # design points synthesised for the out-of-sample test of the resource estimate
    "QAT w3 a<4,2> p0.85": dict(
        method="QAT", weight_bits=3, activation_type="ap_ufixed<4,2>", prune=0.85, qat_epochs=20
    ),
    "QAT w3 a<4,2> p0.7": dict(method="QAT", weight_bits=3, activation_type="ap_ufixed<4,2>", prune=0.7, qat_epochs=20),
    "QAT w4 a<4,2> p0.7": dict(method="QAT", weight_bits=4, activation_type="ap_ufixed<4,2>", prune=0.7, qat_epochs=20),
    "QAT w6 a<6,2> p0.85": dict(
        method="QAT", weight_bits=6, activation_type="ap_ufixed<6,2>", prune=0.85, qat_epochs=20
    ),
    "PTQ w3 a<4,2>": dict(method="PTQ", weight_bits=3, activation_type="ap_ufixed<4,2>"),
    "PTQ w4 a<4,2>": dict(method="PTQ", weight_bits=4, activation_type="ap_ufixed<4,2>"),
}


def _version(command: str) -> str:
    path = tools.find_tool(command)
    if path is None:
        return "not installed"
    flag = "-V" if command == "iverilog" else "--version"
    out = subprocess.run([path, flag], capture_output=True, text=True)
    return (out.stdout or out.stderr).strip().splitlines()[0]


def main(place_route: bool = True) -> None:
    data = load_jet_data(2000, seed=0)
    model = train_tagger(data.X_train, data.y_train, epochs=40, batch_size=256, lr=3e-3, seed=0).model
    net = design_point(model, data, **DEFAULT)
    result = flow.run_rtl_flow(
        net, data.X_test[:3000], place_route=place_route and tools.tool_available("nextpnr-ecp5")
    )
    rows = []
    for name, point in {"default: QAT w4 a<6,3> p0.8": DEFAULT, **POINTS}.items():
        point_net = net if point is DEFAULT else design_point(model, data, **point)
        design = rtl.write_verilog(point_net)
        report = synth.synthesize_rtl(design)
        rows.append(
            {
                "design": name,
                "accuracy": quantized_metrics(point_net, data.X_test, data.y_test, data.class_names)["accuracy"],
                "n_nonzero": point_net.n_nonzero(),
                "pipeline_stages": design.n_stages,
                "est_lut": design.est_lut,
                "est_ff": design.est_ff,
                "synth_lut": report.lut,
                "synth_inv": report.inv,
                "synth_lut_inv": report.lut + report.inv,
                "synth_ff": report.ff,
                "synth_carry": report.carry,
                "synth_seconds": report.seconds,
            }
        )
        print(rows[-1], flush=True)
    import pandas as pd

    table = pd.DataFrame(rows)
    lut_check = validate_resource_model(table, synthesised="synth_lut_inv", estimate="est_lut")
    ff_check = validate_resource_model(table, synthesised="synth_ff", estimate="est_ff")
    scores = quantized_metrics(net, data.X_test, data.y_test, data.class_names)
    reports = {
        "design": {
            **DEFAULT,
            "layers": [list(s) for s in net.layer_sizes],
            "n_nonzero": net.n_nonzero(),
            "accuracy": scores["accuracy"],
            "mean_auc": scores["mean_auc"],
            "key": result.design.key,
        },
        "generation": result.design.metrics(""),
        "simulation": result.simulation.metrics() if result.simulation else None,
        "synthesis": {**result.synthesis.metrics(), "cells": result.synthesis.cells} if result.synthesis else None,
        "place_route": (
            {**result.place_route.metrics(), "device": f"LFE5U-{result.place_route.device.upper()}"}
            if result.place_route
            else None
        ),
        "synthesised_designs": table.to_dict(orient="records"),
        "lut_estimate_check": lut_check.to_dict(orient="records"),
        "ff_estimate_check": ff_check.to_dict(orient="records"),
        "produced_with": {
            "command": "python scripts/make_fpga_reports.py",
            "da4ml": da4ml.__version__,
            "iverilog": _version("iverilog"),
            "yosys": _version("yosys"),
            "nextpnr-ecp5": _version("nextpnr-ecp5"),
            "python": platform.python_version(),
        },
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "default_design.json").write_text(json.dumps(reports, indent=1, default=float) + "\n")
    (OUT / "default_network.json").write_text(json.dumps(rtl.network_to_dict(net)) + "\n")
    print(
        json.dumps(
            {k: reports[k] for k in ("design", "simulation", "synthesis", "place_route")}, indent=1, default=float
        )
    )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-place-route", action="store_true", help="skip nextpnr-ecp5 (routing takes tens of minutes)"
    )
    main(not parser.parse_args().no_place_route)
