"""Quantised design points of the tagger, post-training (PTQ) or quantisation-aware (QAT), and their scan.

Each design point is a quantised 16-64-32-32-5 tagger; its accuracy comes from the
bit-exact numpy model on the test jets, its hardware from da4ml's Verilog (estimates,
labelled ``est_``) and, where asked, from Yosys synthesis (``synth_``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from hepml_nb.core.errors import ParameterError
from hepml_nb.fpga.data import TaggerData
from hepml_nb.fpga.models import dense_layer_sizes
from hepml_nb.fpga.names import QUANTIZATION_METHODS, QuantizationMethod
from hepml_nb.fpga.qat import quantized_metrics, train_qat
from hepml_nb.fpga.rtl import QuantizedMLP, quantize_tagger, write_verilog
from hepml_nb.fpga.synth import synthesize_rtl

__all__ = ["design_point", "quantization_scan"]


def design_point(
    float_model,
    data: TaggerData,
    *,
    method: QuantizationMethod,
    weight_bits: int,
    activation_type: str,
    input_type: str = "ap_fixed<8,3>",
    output_type: str = "ap_fixed<12,6>",
    prune: float = 0.0,
    qat_epochs: int = 10,
    seed: int = 0,
) -> QuantizedMLP:
    """One quantised tagger: ``PTQ`` rounds ``float_model``; ``QAT`` fine-tunes it with fake quantisation.

    ``prune`` (QAT only) is the fraction of each layer's smallest weights held at zero.
    """
    if method == "PTQ":
        if prune:
            raise ParameterError(f"prune={prune} needs training: use method='QAT' (PTQ only rounds the weights)")
        return quantize_tagger(
            float_model,
            input_type=input_type,
            weight_bits=weight_bits,
            activation_type=activation_type,
            output_type=output_type,
        )
    if method == "QAT":
        hidden = [n_out for _, n_out in dense_layer_sizes(float_model)[:-1]]
        return train_qat(
            data.X_train,
            data.y_train,
            hidden=hidden,
            input_type=input_type,
            weight_bits=weight_bits,
            activation_type=activation_type,
            output_type=output_type,
            prune=prune,
            init=float_model,
            epochs=qat_epochs,
            seed=seed,
            progress=False,
        ).net
    raise ParameterError(f"unknown quantisation method {method!r}; choose one of: {', '.join(QUANTIZATION_METHODS)}")


def quantization_scan(
    float_model,
    data: TaggerData,
    *,
    weight_bits: Sequence[int] = (3, 4, 6, 8),
    activation_types: Sequence[str] | None = None,
    methods: Sequence[QuantizationMethod] = QUANTIZATION_METHODS,
    prune: float = 0.0,
    qat_epochs: int = 10,
    input_type: str = "ap_fixed<8,3>",
    output_type: str = "ap_fixed<12,6>",
    synthesize: bool = False,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Accuracy and hardware of PTQ and QAT design points, one row per (method, weight bits).

    Parameters
    ----------
    activation_types
        ``ap_ufixed<W,I>`` per entry of ``weight_bits`` (default ``ap_ufixed<max(4, b),2>``).
    prune
        Fraction of zero weights for the QAT points.
    synthesize
        Also synthesise every point with Yosys (minutes each; the ``full`` profile).

    Returns
    -------
    pandas.DataFrame
        ``method, weight_bits, activation_type, prune, accuracy, mean_auc, n_nonzero, est_lut,
        est_ff, pipeline_stages, design_key`` and, with ``synthesize``, ``synth_lut`` (LUT1-6),
        ``synth_inv, synth_ff, synth_carry, synth_seconds``.
    """
    from tqdm.auto import tqdm

    if activation_types is None:
        activation_types = [f"ap_ufixed<{max(4, int(b))},2>" for b in weight_bits]
    if len(activation_types) != len(weight_bits):
        raise ParameterError(
            f"give one activation type per weight width: {len(weight_bits)} widths, {len(activation_types)} types"
        )
    rows = []
    points = [(m, int(b), a) for m in methods for b, a in zip(weight_bits, activation_types, strict=True)]
    for method, bits, act in tqdm(points, desc="design points", disable=not progress):
        net = design_point(
            float_model,
            data,
            method=method,
            weight_bits=bits,
            activation_type=act,
            input_type=input_type,
            output_type=output_type,
            prune=prune if method == "QAT" else 0.0,
            qat_epochs=qat_epochs,
            seed=seed,
        )
        scores = quantized_metrics(net, data.X_test, data.y_test, data.class_names)
        design = write_verilog(net)
        row = {
            "method": method,
            "weight_bits": bits,
            "activation_type": act,
            "prune": prune if method == "QAT" else 0.0,
            "accuracy": scores["accuracy"],
            "mean_auc": scores["mean_auc"],
            "n_nonzero": net.n_nonzero(),
            "est_lut": design.est_lut,
            "est_ff": design.est_ff,
            "pipeline_stages": design.n_stages,
            "design_key": design.key,
        }
        if synthesize:
            report = synthesize_rtl(design)
            row.update(
                synth_lut=report.lut,
                synth_inv=report.inv,
                synth_ff=report.ff,
                synth_carry=report.carry,
                synth_seconds=report.seconds,
            )
        rows.append(row)
    return pd.DataFrame(rows)
