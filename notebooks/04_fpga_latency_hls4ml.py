# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
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
# 4. put numbers on latency and FPGA resources (DSP, LUT, FF, BRAM): from synthesis when a vendor
#    HLS tool is installed, otherwise from an **analytic estimate** that says so;
# 5. compare with the latency of the same network on this CPU (PyTorch and ONNX Runtime).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

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
assert float_metrics["accuracy"] > 0.4 and trained.loss[-1] < trained.loss[0]

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
start = time.perf_counter()
scores = fpga.emulate(build.hls_model, X_emu)
emulation_rate = len(X_emu) / (time.perf_counter() - start)
ref_metrics = fpga.classification_metrics(y_emu, scores, data.class_names)
print(
    f"{reference_precision}: accuracy {ref_metrics['accuracy']:.4f} (float {float_emu['accuracy']:.4f}); "
    f"{'reused' if build.reused else 'compiled'} in {build.seconds:.1f} s; emulation {emulation_rate:,.0f} jets/s"
)
assert abs(ref_metrics["accuracy"] - float_emu["accuracy"]) <= 0.01

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
good = scan[scan["accuracy"] >= float_emu["accuracy"] - 0.01]
min_width = int(good["width"].min()) if len(good) else None
print("smallest width within 1 % of the float accuracy:", min_width)
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
common = sorted(set(scan["width"]) & set(scan_profiled["width"]))
for w in common:
    uniform = scan.set_index("width").loc[w, "accuracy"]
    profiled = scan_profiled.set_index("width").loc[w, "accuracy"]
    print(f"W = {w:2d}: uniform {uniform:.3f}, profile-guided {profiled:.3f}")
assert all(
    scan_profiled.set_index("width").loc[w, "accuracy"] >= scan.set_index("width").loc[w, "accuracy"] - 0.02
    for w in common
)

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
# Real numbers come from the vendor's HLS synthesis. The guard below looks for it; without it,
# every latency and resource figure in this notebook is an **analytic estimate** (a small
# structural model with two constants fitted to the published synthesis of this very network),
# labelled as such everywhere. Its agreement with the published figures below is the fit itself
# (in-sample), not a measure of its accuracy; measured numbers come from the RTL flow.

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
n_multipliers = sum(int(np.ceil(a * b / 4)) for a, b in zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
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
# ## 8. What about quantisation-aware training?
#
# Here the network is trained in floating point and quantised afterwards (post-training
# quantisation). Training with the quantisation in the loop (QKeras, Brevitas exported through
# QONNX, HGQ) keeps the accuracy down to 4-6 bits and cuts resources by an order of magnitude
# (Coelho et al., arXiv:2006.10159). It is not part of this notebook: Brevitas and QONNX are not
# dependencies of hepml-nb, so this environment cannot run it. The bit-width scan above is the
# baseline such a study would improve on.

# %% [markdown]
# ## 9. Results
#
# The key numbers go into `metrics.json` of the run folder.

# %%
ref_hw = fpga.HardwareFigures.from_row(reuse.iloc[0])  # the smallest reuse factor
metrics = hn.record_metrics(
    n_train=len(data.X_train),
    n_test=len(data.X_test),
    n_emulated=len(X_emu),
    float_accuracy=float_emu["accuracy"],
    float_mean_auc=float_emu["mean_auc"],
    reference_precision=reference_precision,
    reference_accuracy=ref_metrics["accuracy"],
    reference_mean_auc=ref_metrics["mean_auc"],
    reference_accuracy_drop=float_emu["accuracy"] - ref_metrics["accuracy"],
    min_width_within_1pct=min_width,
    scan_widths=scan["width"].tolist(),
    scan_accuracy=scan["accuracy"].tolist(),
    profiled_widths=scan_profiled["width"].tolist(),
    profiled_accuracy=scan_profiled["accuracy"].tolist(),
    compile_seconds=build.seconds,
    emulation_jets_per_s=emulation_rate,
    **ref_hw.metrics(),  # latency_ns, latency_cycles, dsp, lut, ff, bram, hardware_source
    hls_tool=tool,
    estimator_fit_within_published_range=bool(fitted["within_range"].all()),  # in-sample, not an accuracy
    cpu_torch_us=cpu["torch"],
    cpu_onnxruntime_us=cpu["onnxruntime"],
)
print({k: metrics[k] for k in ("float_accuracy", "reference_accuracy", "latency_ns", "dsp", "hardware_source")})
