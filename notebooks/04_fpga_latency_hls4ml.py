# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # FPGA latency study with hls4ml: a jet tagger in nanoseconds
#
# The first trigger level of the LHC experiments decides within about 4 microseconds, in
# custom electronics, which of the 40 million bunch crossings per second are kept. A neural
# network can run there only if it fits into an FPGA and answers in tens of nanoseconds.
# **hls4ml** (Duarte et al., JINST 13 (2018) P07027, arXiv:1804.06913) translates a trained
# network into C++ for high-level synthesis (HLS): every multiplication becomes a piece of
# hardware, every number a fixed-point value `ap_fixed<W,I>`.
#
# In this notebook you will
# 1. train the classic 16-64-32-32-5 jet tagger (five classes: gluon, light quark, W, Z, top) on
#    16 jet-substructure features from locally generated Pythia8 jets;
# 2. convert it with hls4ml, compile the C++ with g++ and run the **bit-accurate emulation**;
# 3. profile weights and activations to choose the integer bits, and scan the bit width and
#    the reuse factor;
# 4. put numbers on the hls4ml design's latency and resources: from synthesis when a vendor HLS
#    tool is installed, otherwise from an **analytic estimate** whose two constants were fitted to
#    the one published design (so its agreement there is in-sample, not a test);
# 5. build **real hardware without any vendor tool**: quantisation-aware training at 3-8 bits,
#    Verilog from da4ml, an RTL simulation with Icarus Verilog that is checked bit for bit and
#    measures the latency in clock cycles, and Yosys synthesis that counts LUTs and flip-flops;
# 6. compare with the latency of the same network on this CPU (PyTorch and ONNX Runtime).

# %%
from itertools import pairwise

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import hepml_nb as hn
from hepml_nb import fpga
from hepml_nb.fpga import exercises, plots

# %% tags=["parameters"]
seed = 0  # seed of the data split, weight initialisation and batching
n_per_class = 2000  # jets per class (g, q, W, Z, t) generated with Pythia8 (cached)
epochs = 40  # training epochs of the float model
batch_size = 256  # training batch size
learning_rate = 0.003  # Adam learning rate
reference_precision = "ap_fixed<16,6>"  # the published design point, checked against the float model
integer_bits = 6  # integer bits I (sign included) of ap_fixed<W,I> in the bit-width scan
widths = [6, 8, 10, 12, 14, 16, 18]  # total bit widths W to emulate (one g++ compile of ~10 s each, cached)
weight_integer_bits = 1  # integer bits of weights and biases in the profile-guided scan
profiled_widths = [6, 8, 10, 12]  # total bit widths of the profile-guided scan (one compile each)
reuse_factors = [1, 2, 4, 8, 16, 32]  # reuse factors of the latency/resource scan
strategy = "Latency"  # hls4ml strategy: Latency or Resource
clock_mhz = 200.0  # FPGA clock frequency in MHz
n_emulate = 3000  # test jets run through the bit-accurate emulation
run_synthesis = "auto"  # vendor HLS synthesis: auto (when vitis-run or vivado_hls is on PATH), always, never
cpu_repeats = 300  # batch-1 inferences timed per CPU backend
rtl_weight_bits = [3, 4, 6, 8]  # weight widths of the PTQ vs QAT scan (da4ml Verilog for each point)
rtl_activation = "ap_ufixed<6,3>"  # hidden activations (after ReLU) of every RTL design point
rtl_input = "ap_fixed<8,3>"  # inputs of every RTL design point (standardised features)
qat_epochs = 20  # quantisation-aware fine-tuning epochs per design point
qat_prune = 0.8  # fraction of weights held at zero in the QAT design points
default_weight_bits = 4  # weight width of the QAT design taken through simulation and synthesis
n_rtl_sim = 3000  # test jets simulated in the RTL with Icarus Verilog, compared bit for bit
rtl_synthesis = True  # Yosys synthesis of the default design (half a minute to 2.5 minutes, cached)
synthesize_scan = False  # synthesise every scan point too (full profile)
place_route = False  # nextpnr-ecp5 place and route of the default design (full profile, about 10 minutes)
compare_softmax = True  # also compile hls4ml with its softmax table (one more g++ compile)

# %% [markdown]
# ## 1. Data: sixteen numbers per jet
#
# Each jet is summarised by 16 high-level features: masses (plain and soft-drop), N-subjettiness
# ratios, energy-correlation ratios C2 and D2, constituent multiplicities, pT dispersion, girth...
# They are computed from Pythia8 jets generated on this machine (and cached, so a second run is
# fast). Features are standardised with the training-set mean and width: the FPGA will see
# numbers of order one, which is what a fixed-point type with few integer bits can hold.

# %%
synthesis = fpga.check_study_parameters(  # bad settings fail here, before any jet is generated
    reference_precision=reference_precision,
    widths=widths,
    integer_bits=integer_bits,
    profiled_widths=profiled_widths,
    weight_integer_bits=weight_integer_bits,
    reuse_factors=reuse_factors,
    strategy=strategy,
    clock_mhz=clock_mhz,
    run_synthesis=run_synthesis,
)
data = fpga.load_jet_data(n_per_class, seed=seed)
print(f"classes: {data.class_names}; train {len(data.X_train)} jets, test {len(data.X_test)} jets")
assert data.X_train.shape[1] == 16 and len(data.class_names) == 5

# %%
# NBVAL_CHECK_OUTPUT
print("train:", data.X_train.shape, "test:", data.X_test.shape)
print("jets per class in the test set:", np.bincount(data.y_test).tolist())

# %% [markdown]
# ## 2. The float model
#
# Three hidden layers of 64, 32 and 32 ReLU units and a softmax over five classes: 4,256 weights,
# hence 4,256 multiplications per jet. We train it in PyTorch and measure its accuracy and the
# one-vs-rest ROC AUC of every class; the published accuracy on the 5-class LHC jet dataset is
# about 76 %.

# %%
trained = fpga.train_tagger(
    data.X_train, data.y_train, epochs=epochs, batch_size=batch_size, lr=learning_rate, seed=seed
)
model = trained.model
float_metrics = fpga.classification_metrics(data.y_test, fpga.predict_proba(model, data.X_test), data.class_names)
print({k: round(v, 3) for k, v in float_metrics.items()})
assert float_metrics["accuracy"] > 0.4 and trained.history["loss"][-1] < trained.history["loss"][0]

# %% [markdown]
# ## 3. Fixed point: what `ap_fixed<W,I>` does to a number
#
# An `ap_fixed<W,I>` number has W bits, I of them before the binary point (the sign bit
# included). It holds multiples of the step $2^{-(W-I)}$ between $-2^{I-1}$ and
# $2^{I-1} - 2^{-(W-I)}$. By default HLS **truncates** (rounds towards $-\infty$, `AP_TRN`) and on
# overflow **wraps around** (`AP_WRAP`): 33 in `ap_fixed<16,6>` becomes -31.
#
# **Exercise 1.** Quantise the array `x` to `ap_fixed<8,3>` with truncation and wrap-around, in
# numpy, without calling the library.

# %%
x = np.array([0.3, -1.27, 3.9, 4.2, -5.0, 0.0625])
W, I = 8, 3  # noqa: E741 (the W and I of ap_fixed<W,I>)
q = None  # your answer: x in ap_fixed<8,3>
### BEGIN SOLUTION
step = 2.0 ** -(W - I)
codes = np.floor(x / step)
codes = (codes + 2 ** (W - 1)) % 2**W - 2 ** (W - 1)
q = codes * step
### END SOLUTION

# %%
exercises.check_quantize(q, x, W, I)

# %% [markdown]
# ### Numerical profiling: how many integer bits?
#
# The integer part must hold the largest value a layer ever produces; the fractional part sets
# the resolution. Profiling the trained model on the training jets shows the magnitudes layer by
# layer (hls4ml's own `hls4ml.model.profiling.numerical` draws similar box plots but needs seaborn,
# which hepml-nb does not install). Weights are below 1, while the outputs of the later layers
# reach tens, so one precision for everything is a compromise: the weights waste integer bits,
# and a few rare large logits need saturation (`AP_SAT`) rather than wrap-around.

# %%
profile = fpga.numerical_profile(model, data.X_train)
fig, ax = plt.subplots(figsize=(7, 5))
plots.plot_profile(profile, ax=ax)
hn.save_figure(fig, "numerical_profile")
profile.round(3)

# %% [markdown]
# **Exercise 2.** Using `profile`, find how many integer bits I (sign bit included) the output of
# the last dense layer `fc4` needs so that its largest value on the training set fits.

# %%
fc4_max = profile.query("layer == 'fc4' and kind == 'output'")["max_abs"].iloc[0]
needed_bits = None  # your answer: integer bits I for fc4_max
### BEGIN SOLUTION
needed_bits = int(np.floor(np.log2(fc4_max))) + 2
### END SOLUTION
print(f"largest |fc4 output| = {fc4_max:.2f} -> I = {needed_bits}")

# %%
exercises.check_integer_bits(needed_bits, fc4_max)

# %% [markdown]
# ## 4. hls4ml: convert, compile, emulate
#
# `convert_tagger` builds the per-layer hls4ml configuration (precision, reuse factor, strategy,
# `io_parallel`), writes the HLS C++ project and compiles it with g++. The compiled library runs the
# **same fixed-point arithmetic as the firmware**, so its outputs are what the FPGA would give,
# bit for bit. Projects are cached under a hash of weights and configuration: a second run with
# the same model reuses the compiled library instead of spending about 10 s in g++.
#
# Three choices in that configuration matter for accuracy: sums inside a layer are accumulated
# without loss (hls4ml's `auto` accumulator type) and rounded once to `ap_fixed<W,I>`; layer outputs
# **saturate** instead of wrapping; and the softmax, a lookup table in hardware, gets 4096 entries
# instead of 1024.
#
# First the published design point, `ap_fixed<16,6>`: its accuracy must be within 1 % (absolute)
# of the float model.

# %%
X_emu, y_emu = data.X_test[:n_emulate], data.y_test[:n_emulate]
float_emu = fpga.classification_metrics(y_emu, fpga.predict_proba(model, X_emu), data.class_names)
build = fpga.convert_tagger(model, precision=reference_precision, strategy=strategy, clock_period=1e3 / clock_mhz)
reference = fpga.emulation_check(  # runs build.hls_model.predict: the firmware's arithmetic, compiled
    build, X_emu, y_emu, data.class_names, precision=reference_precision, float_metrics=float_emu
)
print(reference.summary())
assert abs(reference.accuracy_drop) <= 0.01

# %% [markdown]
# ## 5. Bit-width scan
#
# Now the same for every total width W at fixed integer bits I: each width is one g++ compile
# (cached). We record the accuracy, the AUC of each class, and the fraction of jets that get the
# same class as in the float model. Watch where the accuracy falls off: once the step
# $2^{-(W-I)}$ is comparable to the weights, most weights round to zero.

# %%
scan = fpga.precision_scan(
    model, X_emu, y_emu, data.class_names, widths=widths, integer_bits=integer_bits, strategy=strategy
)
scan.round(4)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
plots.plot_precision_scan(scan, float_accuracy=float_emu["accuracy"], ax=axes[0])
plots.plot_auc_scan(scan, data.class_names, float_metrics=float_emu, ax=axes[1])
hn.save_figure(fig, "precision_scan")
print("smallest width within 1 % of the float accuracy:", fpga.min_width_within(scan, float_emu["accuracy"]))
assert scan["accuracy"].iloc[-1] >= scan["accuracy"].iloc[0] - 0.01

# %% [markdown]
# ### Profile-guided precision
#
# The profile told us that weights and biases stay below 1 in magnitude: they need a single integer
# bit (the sign), while the layer outputs need about six. Giving the weights `ap_fixed<W,1>` at the
# same total width W turns five wasted integer bits into fractional bits, i.e. a 32 times finer
# step for the weights, at no cost in multiplier width.

# %%
scan_profiled = fpga.precision_scan(
    model,
    X_emu,
    y_emu,
    data.class_names,
    widths=profiled_widths,
    integer_bits=integer_bits,
    weight_integer_bits=weight_integer_bits,
    strategy=strategy,
)
fig, ax = plt.subplots(figsize=(6, 4.5))
plots.plot_precision_scan(
    {
        f"everything <W,{integer_bits}>": scan,
        f"weights <W,{weight_integer_bits}>, outputs <W,{integer_bits}>": scan_profiled,
    },
    float_accuracy=float_emu["accuracy"],
    ax=ax,
)
hn.save_figure(fig, "precision_scan_profiled")
scan_profiled[["precision", "weight_precision", "accuracy", "mean_auc", "agreement"]].round(4)

# %%
precision_study = fpga.PrecisionStudy(scan, scan_profiled, float_accuracy=float_emu["accuracy"])
side_by_side = precision_study.comparison()  # accuracy at the widths both scans share
assert (side_by_side["profile_guided"] >= side_by_side["uniform"] - 0.02).all()
side_by_side.round(3)

# %% [markdown]
# ## 6. Latency and resources
#
# Where does the number of nanoseconds come from? With `io_parallel` and the `Latency` strategy,
# each dense layer multiplies all its inputs by all its weights at once (one multiplier per
# weight), adds the products in a tree and registers the result: a couple of clock cycles per
# layer. The **reuse factor** R lets each multiplier serve R products one after the other:
# R times fewer multipliers (DSP slices), R-1 more cycles per layer, and a new jet accepted only
# every R cycles.
#
# Real numbers for this hls4ml design come from the vendor's HLS synthesis. The guard below
# looks for it. Without it, every latency and resource figure in this section is an **analytic
# estimate**: a small structural model of hls4ml's `io_parallel` layers with two constants fitted
# to the published synthesis of this very network. Its agreement with that design is therefore
# the fit itself (in-sample), not a test, and there is no second vendor synthesis here to test it
# on. Section 8 builds real hardware instead; there the resource estimate is tested out of sample.

# %%
tool = fpga.find_hls_tool()
print(
    f"vendor HLS tool: {tool or 'none on PATH'} -> latency/resources from "
    f"{'SYNTHESIS' if synthesis else 'the ANALYTIC ESTIMATE (not a synthesis result)'}"
)
fitted = fpga.fitted_design_table()  # in-sample: the design the estimator's constants were fitted to
fitted.drop(columns=["reference"])

# %%
# NBVAL_CHECK_OUTPUT
for row in fitted.itertuples():
    print(
        f"{row.quantity}: published {row.published_low:g}-{row.published_high:g}, "
        f"estimate {row.estimate:g} (fitted to this design: {'inside' if row.within_range else 'outside'} the range)"
    )

# %% [markdown]
# **Exercise 3.** How many multipliers must work at the same time for the 16-64-32-32-5 network
# with reuse factor R = 4? (One product per weight; each layer's count is divided by R, rounded
# up.)

# %%
layer_sizes = (16, 64, 32, 32, 5)
n_multipliers = None  # your answer
### BEGIN SOLUTION
n_multipliers = sum(int(np.ceil(a * b / 4)) for a, b in pairwise(layer_sizes))
### END SOLUTION
print("multipliers at R = 4:", n_multipliers)

# %%
exercises.check_multiplications(n_multipliers, layer_sizes, reuse_factor=4)

# %% [markdown]
# ### Reuse-factor scan
#
# The arithmetic does not depend on the reuse factor (only the schedule does), so the accuracy of
# every row is the emulated accuracy at that precision.

# %%
ref_width, ref_integer = fpga.parse_precision(reference_precision)
reuse = fpga.reuse_scan(
    model,
    reuse_factors=reuse_factors,
    precision=(ref_width, ref_integer),
    strategy=strategy,
    clock_mhz=clock_mhz,
    synthesis=synthesis,
)
fig, ax = plt.subplots(figsize=(6, 4.5))
plots.plot_reuse_scan(reuse, ax=ax)
hn.save_figure(fig, "reuse_scan")
reuse.drop(columns=["estimator"], errors="ignore")

# %% [markdown]
# **Exercise 4.** The reference design takes `reuse['latency_cycles'].iloc[0]` clock cycles.
# What is its latency in nanoseconds at `clock_mhz`?

# %%
cycles = int(reuse["latency_cycles"].iloc[0])
latency_ns = None  # your answer in ns
### BEGIN SOLUTION
latency_ns = cycles * 1e3 / clock_mhz
### END SOLUTION
print(f"{cycles} cycles at {clock_mhz:g} MHz = {latency_ns} ns")

# %%
exercises.check_latency_ns(latency_ns, cycles, clock_mhz)

# %% [markdown]
# ### The latency study table
#
# Every configuration of the bit-width scan at the smallest and largest reuse factor: emulated
# accuracy, latency, resources and the **source** of the hardware figures.

# %%
table = fpga.study_table(
    scan,
    model,
    reuse_factors=sorted({min(reuse_factors), max(reuse_factors)}),
    integer_bits=integer_bits,
    strategy=strategy,
    clock_mhz=clock_mhz,
    synthesis=synthesis,
)
assert synthesis or set(table["source"]) == {"estimate"}
table.round(4)

# %% [markdown]
# ### Explore the trade-off
#
# Move the sliders: precision changes the accuracy (from the scan, nearest width) and the
# resources; the reuse factor trades DSPs for latency. The right panel is always an estimate.

# %%
layers = fpga.dense_layer_sizes(model)
explorer = hn.explore(
    lambda width, reuse_factor: plots.design_figure(
        width,
        reuse_factor,
        scan=scan,
        layers=layers,
        integer_bits=integer_bits,
        strategy=strategy,
        clock_mhz=clock_mhz,
        float_accuracy=float_emu["accuracy"],
    ),
    width=(min(widths), max(widths), 2),
    reuse_factor=sorted(reuse_factors),
)

# %% [markdown]
# ## 7. The same network on this CPU
#
# For comparison, batch-1 inference of the float model on one CPU thread, with PyTorch and with
# ONNX Runtime. These are measured on the machine running the notebook (and noisy on a shared
# one). Even the fastest CPU call is dominated by framework overhead, microseconds rather than
# nanoseconds, and a CPU cannot take a new jet every clock tick of 5 ns.

# %%
cpu = fpga.cpu_latency(model, n_repeat=cpu_repeats)
fpga_ns = float(reuse["latency_ns"].iloc[0])
for name, us in cpu.items():
    print(
        f"{name:12s} {us:8.1f} us per jet  ({us * 1e3 / fpga_ns:,.0f} x the FPGA figure of {fpga_ns:g} ns, "
        f"{reuse['source'].iloc[0]})"
    )
assert all(us > 0 for us in cpu.values())

# %% [markdown]
# ## 8. Measured, not estimated: real RTL with open-source tools
#
# **da4ml** (Sun et al., arXiv:2507.04535) turns a quantised network into a fully pipelined
# Verilog design. Every constant multiplication becomes shift-and-add logic, so no DSPs are used.
# We train the tagger **quantisation-aware** (QAT): the forward pass rounds weights and
# activations exactly as the hardware will, and the backward pass lets gradients through the
# rounding (straight-through estimator). The hardware design is checked bit for bit in an RTL
# simulation (Icarus Verilog) and synthesised with Yosys for AMD UltraScale+. First: which tools
# are here? Without one, the notebook shows the shipped reports of the default design, labelled
# as such.

# %%
rtl_tools = fpga.tool_report()
for name, path in rtl_tools.items():
    print(f"{name:13s} {path or 'not found: ' + fpga.tools.HARDWARE_TOOLS[name].install}")

# %% [markdown]
# ### The straight-through estimator
#
# Rounding has zero gradient almost everywhere, so QAT cannot train through it as it stands. Its
# fake quantisation (`fpga.fake_fixed`, applied to the inputs and to every hidden activation in the
# forward pass; the weights get the same treatment on their own grid) returns
# `x + (q(x) - x).detach()`: the rounded value `q(x)` forward, and the gradient of `x` itself
# backward. Only where the value saturates is the gradient zero. Here it is on a few numbers in
# `ap_fixed<4,2>` (steps of 0.25 from -2 to 1.75):

# %%
x = torch.linspace(-2.6, 2.4, 11, requires_grad=True)
q = fpga.fake_fixed(x, "ap_fixed<4,2>")  # forward: truncate and saturate, as the hardware does
q.sum().backward()  # backward: dq/dx = 1 inside the range, 0 where it saturated
np.testing.assert_array_equal(q.detach().numpy(), fpga.quantize_fixed(x.detach().numpy(), 4, 2, overflow="SAT"))
pd.DataFrame({"x": x.detach().numpy(), "q(x)": q.detach().numpy(), "dq/dx": x.grad.numpy()})

# %% [markdown]
# ### Post-training quantisation against QAT
#
# One design point per method and weight width. PTQ rounds the float model's weights. QAT
# fine-tunes them for `qat_epochs` with the rounding in the loop, keeping the smallest `qat_prune`
# of them at zero. Hardware per point: da4ml's LUT/FF estimate, tested against synthesis below.

# %%
rtl_scan = fpga.quantization_scan(
    model,
    data,
    weight_bits=rtl_weight_bits,
    activation_types=[rtl_activation] * len(rtl_weight_bits),
    prune=qat_prune,
    qat_epochs=qat_epochs,
    input_type=rtl_input,
    synthesize=synthesize_scan,
    seed=seed,
)
rtl_scan[["method", "weight_bits", "accuracy", "n_nonzero", "est_lut", "est_ff", "pipeline_stages"]].round(4)

# %%
fig, ax = plt.subplots(figsize=(6, 4.5))
cost = "synth_lut" if synthesize_scan else "est_lut"
plots.plot_pareto(rtl_scan, cost=cost, float_accuracy=float_metrics["accuracy"], ax=ax)
hn.save_figure(fig, "pareto_ptq_qat")
methods = fpga.compare_methods(rtl_scan)  # PTQ beside QAT, one row per weight width
print(f"float model: {float_metrics['accuracy']:.3f}")
assert (methods.table["qat_est_lut"] < methods.table["ptq_est_lut"]).all() and (rtl_scan["accuracy"] > 0.3).all()
methods.table.round(3)

# %% [markdown]
# The table above compares the two methods at each width: QAT with most weights pruned needs a
# fraction of the logic of PTQ, and with enough fine-tuning epochs it keeps the accuracy of the
# float model to lower widths. We take the `default_weight_bits` QAT design through the whole flow:
# Verilog, RTL simulation of `n_rtl_sim` test jets compared bit for bit with a numpy fixed-point
# model and with da4ml's own model, the latency measured in the simulation, and synthesis.

# %%
net = fpga.design_point(
    model,
    data,
    method="QAT",
    weight_bits=default_weight_bits,
    activation_type=rtl_activation,
    input_type=rtl_input,
    prune=qat_prune,
    qat_epochs=qat_epochs,
    seed=seed,
)
flow = fpga.run_rtl_flow(
    net, data.X_test[:n_rtl_sim], synthesize=rtl_synthesis, place_route=place_route, clock_period_ns=1e3 / clock_mhz
)
print(f"design {flow.design.key}: {flow.design.n_stages} pipeline stages, Verilog in {flow.design.path / 'src'}")
for step, why in flow.skipped.items():
    print(f"{step} skipped: {why}")

# %%
shipped = fpga.shipped_reports()
rtl = fpga.rtl_outcome(flow, net, data, shipped=shipped)  # a step that did not run: its shipped report, labelled
print(rtl.summary())
assert flow.simulation is None or rtl.simulation["rtl_sim_latency_cycles"] == flow.design.n_stages

# %% [markdown]
# The latency above is measured, not modelled: the number of clock edges between a jet entering
# the simulated design and its scores leaving it. Compare the synthesised resources with the
# published hls4ml design of this network at 16 bits (about 1,500-1,850 DSPs, Duarte et al.,
# arXiv:1804.06913): shift-and-add logic at a few bits needs no DSPs at all. Open tools give no
# timing for Xilinx parts; the `full` profile places and routes the design on a Lattice ECP5 with
# nextpnr for a real clock frequency.
#
# ### One jet through the pipeline
#
# The waveform below is the simulation of the first test jet alone (Icarus Verilog, values dumped
# to a VCD file): one row per pipeline register of the design, one box per clock cycle. The jet
# (coloured) enters the input register at the first edge and moves one stage per edge; registers
# not reached yet still hold `x`. The scores in the title are read from the output port and
# checked against the numpy fixed-point model.

# %%
if flow.simulation is not None:
    wave = fpga.rtl_waveform(flow.design, net.quantize_inputs(data.X_test[:1]))
    np.testing.assert_array_equal(wave.scores, fpga.reference_logits(net, data.X_test[:1])[0])
    fig, ax = plt.subplots(figsize=(9, 0.5 * (len(wave.signals) + 2)))
    plots.plot_waveform(wave, ax=ax)
    hn.save_figure(fig, "rtl_waveform")
    best = data.class_names[int(np.argmax(wave.scores))]
    print(f"scores after {wave.latency_cycles} edges: {wave.scores}, class {best}")
else:
    print("no RTL simulator here: the waveform needs Icarus Verilog (apt-get install iverilog)")

# %% [markdown]
# ### hls4ml beside the RTL
#
# The same quantised network through hls4ml's C++ emulation. Configured with the RTL's arithmetic
# (exact dense-layer sums, the same ReLU rounding, no softmax) it must agree bit for bit. With
# hls4ml's softmax table it gives probabilities instead of logits: only the class can agree.

# %%
X_cmp = data.X_test[:n_rtl_sim]
rtl_logits = flow.simulation.outputs if flow.simulation else fpga.reference_logits(net, X_cmp)
agree_exact = fpga.compare_outputs(fpga.emulate_network(fpga.convert_network(net), net, X_cmp), rtl_logits)
print(f"hls4ml, same arithmetic: {agree_exact.bit_exact_fraction:.1%} of jets bit for bit")
if compare_softmax:
    softmax_build = fpga.convert_network(net, softmax=True)
    agree_softmax = fpga.compare_outputs(fpga.emulate_network(softmax_build, net, X_cmp), rtl_logits)
    print(f"hls4ml with its softmax table: {agree_softmax.same_class_fraction:.1%} of jets get the same class")
assert agree_exact.bit_exact_fraction == 1.0

# %% [markdown]
# ### The resource estimate, tested out of sample
#
# da4ml estimates LUTs and flip-flops from its own logic graph; nothing in it is fitted here.
# Design points synthesised with Yosys for this check ship with hepml-nb (`shipped_reports()`,
# made by `scripts/make_fpga_reports.py`); the table compares the estimate with synthesis design
# by design, and a one-constant rescaling fitted on the other designs (leave-one-out).

# %%
designs = pd.DataFrame(shipped["synthesised_designs"])
lut_check = fpga.validate_resource_model(designs, synthesised="synth_lut_inv", estimate="est_lut")
ff_check = fpga.validate_resource_model(designs, synthesised="synth_ff", estimate="est_ff")
print(
    f"da4ml vs Yosys on {len(designs)} designs, out of sample: LUT max |error| "
    f"{lut_check['raw_rel_error'].abs().max():.1%}, FF {ff_check['raw_rel_error'].abs().max():.1%}"
)
assert lut_check["raw_rel_error"].abs().max() < 0.15
lut_check[["design", "est_lut", "synth_lut_inv", "raw_rel_error", "loo_rel_error"]].round(3)

# %% [markdown]
# ## 9. Results
#
# The key numbers go into `metrics.json` of the run folder.

# %%
metrics = hn.record_metrics(
    fpga.study_metrics(
        data,
        reference=reference,
        precision=precision_study,
        reuse=reuse,  # its first row, the smallest reuse factor, is the design recorded
        hls_tool=tool,
        fitted=fitted,
        cpu=cpu,
        methods=methods,
        rtl=rtl,
        hls_vs_rtl=agree_exact,
        lut_check=lut_check,
    )
)
print({k: metrics[k] for k in ("float_accuracy", "reference_accuracy", "latency_ns", "dsp", "hardware_source")})
