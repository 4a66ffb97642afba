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
# # Jet tagging with ParticleNet and the Particle Transformer: top quarks (and W, Z) against QCD
#
# At the LHC, a top quark produced with a transverse momentum well above its mass decays
# into three quarks, $t \to bW \to bq\bar q'$, that fly so close together that a single
# large-radius jet ($R = 0.8$) contains all of them. Ordinary quark and gluon jets from QCD
# are produced a thousand times more often. Telling the two apart from the jet's constituents
# is **top tagging**; W and Z bosons (two quarks in the jet) are tagged the same way (`task`).
#
# In this notebook you will
#
# 1. generate jets with **Pythia8**, pass the particles through a parametrised **detector**
#    (tracking, calorimeters, impact parameters; resolutions from the Delphes CMS and ATLAS
#    cards) and cluster them with **FastJet** (recipe of the top-tagging reference dataset,
#    Kasieczka et al., arXiv:1902.09914);
# 2. write and read them as **ROOT ntuples** in the JetClass schema with **uproot**;
# 3. build a classic tagger on **jet substructure** observables (mass, N-subjettiness, energy correlation ratios);
# 4. train **ParticleNet** (Qu & Gouskos, arXiv:1902.08570), a graph network on the jet as a
#    *particle cloud*, and the **Particle Transformer** (ParT; Qu, Li, Qian, arXiv:2202.03772),
#    and compare them with the baseline (ROC curves, background rejection with uncertainties);
# 5. export the networks to **ONNX**, the route back into C++ reconstruction software.
#
# The cell after the imports holds all parameters; the `ci`, `default` and `full` profiles
# of `hepml-nb run particlenet` change them.

# %%
import inspect
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: no busy-waiting threads on a shared CPU
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import uproot

import hepml_nb as hn
from hepml_nb import jets
from hepml_nb.core.devices import torch_seed
from hepml_nb.core.plotting import plot_rejection, plot_roc, use_style

# %% tags=["parameters"]
task = "top"  # top, w or z (each against QCD) or multiclass (g, q, w, z, top: the FPGA topic's five classes)
detector = "cms-like"  # detector response: cms-like, atlas-like (Delphes-card resolutions) or none (particle level)
feature_set = "full"  # JetClass particle inputs: kin (7), kinpid (13, + charge, type) or full (17, + impact parameters)
taggers = ["particlenet_lite", "part_small"]  # any of particlenet_lite, particlenet, part_small, part
n_jets_per_class = 5000  # jets generated per class
n_test_qcd = 12000  # extra QCD jets for the test set only (1/eps_B needs many background jets; 0 for none)
pt_min = 550.0  # lower edge of the jet pT window [GeV]
pt_max = 650.0  # upper edge of the jet pT window [GeV]
eta_max = 2.0  # largest jet |eta|
data_path = None  # glob of JetClass ROOT files to read instead of generating, e.g. "/data/JetClass/*.root"
max_particles = 100  # particles per jet given to ParticleNet (padding length)
use_pretrained = True  # start from the shipped checkpoints where one fits (top task, full inputs)
jetclass_model = None  # path to a published JetClass model (.pt), e.g. ParticleNet_full.pt; None skips the section
epochs = 3  # training epochs (0 evaluates the pretrained models as they are)
batch_size = 128  # jets per mini-batch
learning_rate = 0.003  # peak learning rate (divided by 10 when fine-tuning the pretrained model)
patience = 3  # early stopping: epochs without a better validation loss
baseline_kind = "bdt"  # high-level-feature baseline: bdt (gradient-boosted trees) or mlp
device = "auto"  # auto, cpu or cuda
n_workers = 0  # processes for the jet generation (0 means all CPU cores)
seed = 0  # seed of generation, data split and training

# %%
use_style("ROOT")
timings = {}
device = hn.resolve_device(device)  # resolved once: the library takes this torch.device as it is
print(f"device: {device}, torch threads: {torch.get_num_threads()}")

# %% [markdown]
# ## 1. Generating jets
#
# Pythia8 simulates proton-proton collisions at $\sqrt{s} = 14$ TeV: the hard process
# ($gg \to t\bar t$, $q\bar q \to t\bar t$ with hadronic $W$ decays for top jets; hadronic
# $W$ or $Z$ production for boson jets; all $2 \to 2$ QCD processes for the background),
# parton showers and hadronisation. Multi-parton interactions and pile-up are off, as in the
# reference dataset.
#
# With `detector = "cms-like"` (or `"atlas-like"`) the stable particles then pass a
# parametrised detector, as Delphes does for the reference dataset and JetClass: charged
# particles inside the tracker are found with the tracking efficiency and their $p_T$ smeared
# by the tracker resolution; photons and electrons deposit in the ECAL, neutral hadrons in the
# HCAL, with the calorimeter energy resolutions, and neutral deposits in one calorimeter tower
# are merged. The output are particle-flow candidates with transverse and longitudinal impact
# parameters ($d_0$, $d_z$, from Pythia's production vertices, smeared by the track
# resolution) and their uncertainties: the `part_d0val ... part_dzerr` branches of JetClass.
# `detector = "none"` keeps the particle-level jets.
#
# FastJet clusters the candidates with the anti-$k_T$ algorithm, $R = 0.8$. Of each event, the
# two leading jets are candidates; we keep those with $p_T$ in the window and $|\eta| < 2$.
# A top jet must contain a parton-level top *and* all three decay quarks of that same top
# ($\Delta R < 0.8$ from the jet axis); W and Z jets likewise their boson and its two quarks.
# Generation runs in parallel processes with distinct seeds and is cached: a second run with
# the same parameters reads the files. The next cell prints the detector's resolutions (with
# the cards they come from) and where our files deviate from the reference recipe (the same
# notes are stored in every generated file, `hepml_nb_metadata`).

# %%
start = time.perf_counter()
if data_path is None:
    recipe_kwargs = {"pt_range": (pt_min, pt_max), "eta_max": eta_max, "n_workers": n_workers or None}
    files = jets.task_files(task, n_jets_per_class, seed=seed, detector=detector, **recipe_kwargs)
    print("recipe notes and deviations from the reference recipe:", *jets.recipe_notes(detector), sep="\n  ")
else:
    files = jets.io.find_jet_files(data_path)  # expands globs; load_jets checks each file as it reads it
extra_files = []
if data_path is None and n_test_qcd > 0:  # background jets for the test set only
    extra_files = [jets.extra_background_file(n_test_qcd, seed=seed, detector=detector, **recipe_kwargs)]
timings["data_s"] = time.perf_counter() - start
print(f"{len(files) + len(extra_files)} files, {timings['data_s']:.1f} s")

# %% [markdown]
# ## 2. ROOT ntuples with uproot
#
# Each file holds a TTree `tree` with one entry per jet in the **JetClass** schema
# (Qu et al., arXiv:2202.03772): jagged particle branches (`part_px`, `part_deta`, ...,
# one value per constituent), jet branches (`jet_pt`, `jet_sdmass`, `jet_tau1`...) and one-hot
# labels (`label_QCD`, `label_Tbqq`, ...). `part_deta` follows JetClass:
# $(\eta_{\rm particle} - \eta_{\rm jet}) \cdot \mathrm{sign}(\eta_{\rm jet})$, so that positive means
# "away from the beam line" on both sides of the detector (the loader checks it on every file).
# uproot reads it without ROOT, straight into awkward arrays:

# %%
tree = uproot.open(files[0])["tree"]
print(tree.num_entries, "jets;", ", ".join(tree.keys()[:12]), "...")
tree.arrays(["part_px", "part_deta", "jet_pt", "jet_sdmass"], entry_stop=3).show()

# %% [markdown]
# `jets.load_jets` reads several files (ours, or real JetClass files through `data_path`)
# into awkward arrays *and* dense arrays padded to `max_particles`, with a mask that marks the
# real particles. The particle inputs are one of JetClass's own input sets, with its names,
# order and standardisation (particle_transformer's `data/JetClass/JetClass_{kin,kinpid,full}.yaml`):
# `full` has the 17 inputs of the full ParT model, so a model trained on real JetClass reads our
# jets and the other way round. `jets.task_labels` keeps the task's classes (QCD = 0; for
# `multiclass`, QCD jets are split into gluon and light-quark jets by their matched parton).

# %%
# NBVAL_CHECK_OUTPUT
data = jets.task_labels(jets.load_jets(files, max_particles=max_particles, feature_set=feature_set), task)
classes = data.label_names
print("features", data.features.shape, "mask", data.mask.shape, "classes", classes)
print("jets per class:", dict(zip(classes, np.bincount(data.labels, minlength=len(classes)).tolist(), strict=True)))
extra = jets.load_jets(extra_files, max_particles=max_particles, feature_set=feature_set) if extra_files else None
print("extra QCD jets for the test set:", len(extra) if extra else 0)

# %%
assert set(np.unique(data.labels)) == set(range(len(classes))), f"need jets of every class {classes}"
# the ROC compares one signal class with QCD: class 1 for two-class tasks, top against g + q for multiclass
signal = "top" if task == "multiclass" else classes[1]
background = tuple(c for c in classes if c in ("qcd", "g", "q"))
print(f"signal: {signal}, background: {' + '.join(background)}")
print("particle features:", ", ".join(data.feature_names))
print(f"real particles per jet: {data.mask.sum(1).mean():.1f} on average (padding to {max_particles})")

# %% [markdown]
# ### Exercise 1: the jet mass
#
# The simplest top tagger is the jet mass: the three quarks of a top decay give
# $m_{\rm jet} \approx m_t \approx 173$ GeV, QCD jets get their mass only from radiation.
# `data.four_vectors` has shape (jets, particles, 4) with $(p_x, p_y, p_z, E)$ in GeV,
# zero for padded particles. Compute the mass of every jet,
# $m^2 = (\sum E)^2 - |\sum \vec p|^2$, as an array `masses` of shape (jets,).

# %%
masses = None
### BEGIN SOLUTION
total = data.four_vectors.sum(axis=1)
masses = np.sqrt(np.maximum(total[:, 3] ** 2 - (total[:, :3] ** 2).sum(axis=1), 0.0))
### END SOLUTION

# %%
jets.exercises.check_jet_mass(masses, data.four_vectors)

# %% [markdown]
# ## 3. Jet substructure: the baseline
#
# Before deep learning, taggers combined a handful of physics observables. `jets.HIGH_LEVEL_FEATURES`
# lists the 16 we compute: the mass and the **soft-drop** groomed mass (arXiv:1402.2657),
# **N-subjettiness** $\tau_N$ and the ratios $\tau_{21}$, $\tau_{32}$, $\tau_{43}$ (arXiv:1011.2268;
# a three-prong top jet has small $\tau_{32}$), constituent multiplicities, the **energy
# correlation** ratios $C_2$, $D_2$ with $\beta = 1, 2$ (arXiv:1305.0007, 1409.6298),
# $p_T^D$, girth, $\sum z \ln z$ and the leading-particle momentum fraction.

# %%
X = jets.high_level_features(data)
assert X.shape == (len(data), 16) and np.isfinite(X).all()
fig, axes = plt.subplots(1, 4, figsize=(18, 4))
for ax, (name, unit) in zip(axes, [("mass", "GeV"), ("sd_mass", "GeV"), ("tau32", ""), ("d2_b1", "")], strict=True):
    jets.plots.plot_feature(
        X[:, jets.HIGH_LEVEL_FEATURES.index(name)], data.labels, name=name, unit=unit, class_names=classes, ax=ax
    )
hn.save_figure(fig, "high_level_features")

# %% [markdown]
# We split the jets once into training (70 %), validation (15 %) and test (15 %) sets, used by
# every tagger. The baseline is a gradient-boosted decision tree (or an MLP) on the 16 features.
#
# Every tagger gives class probabilities. The ROC of `signal` against QCD uses JetClass's
# discriminant $p_s / (p_s + \sum_b p_b)$ (Qu, Li, Qian, Sec. 4): for a two-class task it is
# just $p_s$; for the five-class task it compares top jets with gluon plus light-quark jets.
# The extra QCD jets join the background side of the test set.

# %%
split = jets.training.train_val_test_split(len(data), seed=seed)
fit_index = np.concatenate([split["train"], split["val"]])
labels_test = data.labels[split["test"]]
labels_eval = np.concatenate([labels_test, np.full(len(extra) if extra else 0, classes.index(background[0]))])


def discriminant(probabilities, labels):
    """(y, score) of the signal class against QCD from class probabilities."""
    return jets.study.signal_vs_background(
        probabilities, labels, signal=classes.index(signal), background=[classes.index(b) for b in background]
    )


start = time.perf_counter()
baseline = jets.baseline.train_baseline(X[fit_index], data.labels[fit_index], kind=baseline_kind, seed=seed)
timings["baseline_s"] = time.perf_counter() - start
probs_baseline = jets.baseline.baseline_scores(baseline, X[split["test"]])
if extra:
    extra_probs = jets.baseline.baseline_scores(baseline, jets.high_level_features(extra))
    probs_baseline = np.concatenate([probs_baseline, extra_probs])
y_test, score_baseline = discriminant(probs_baseline[: len(labels_test)], labels_test)
auc_baseline = hn.auc(y_test, score_baseline)
print(f"baseline ({baseline_kind}) test AUC, {signal} vs QCD = {auc_baseline:.4f}")
assert auc_baseline > 0.75

# %% [markdown]
# ## 4. ParticleNet
#
# ParticleNet treats the jet as an unordered **point cloud** of up to 100 particles. Its
# building block, **EdgeConv**, connects each particle $i$ to its $k$ nearest neighbours $j$
# and applies a shared MLP $h_\Theta$ to the edge features:
#
# $$x_i' = \frac{1}{k} \sum_{j \in \mathrm{kNN}(i)} h_\Theta(x_i,\; x_j - x_i).$$
#
# The first graph uses the particles' positions $(\Delta\eta, \Delta\phi)$; later blocks
# recompute the neighbours in the learned feature space (a *dynamic* graph). ParticleNet has
# three blocks ($k = 16$; 64, 128, 256 channels), ParticleNet-Lite two ($k = 7$; 32, 64).
# Global average pooling and a fully connected layer give the class scores.
#
# The **Particle Transformer** treats the jet as a *set* instead: every particle attends to every
# other one. Its attention weights get a bias from **pair-wise interaction features** of each
# particle pair, $\ln \Delta$, $\ln k_T$, $\ln z$ and $\ln m^2$ (computed from the four-vectors),
# so the network sees the physics of a splitting directly. Eight particle-attention blocks are
# followed by two **class-attention** blocks, in which a learned class token attends to the
# particles. The paper's ParT has 2.1 million parameters; `part_small` is a CPU-sized version.
#
# ### Exercise 2: nearest neighbours
#
# Find the indices of the $k = 7$ nearest neighbours of the leading particle (index 0) of
# jet 0 in the $(\Delta\eta, \Delta\phi)$ plane, excluding the particle itself and padded
# particles. `data.points[0]` has shape (particles, 2), `data.mask[0]` marks real ones.

# %%
points, mask = data.points[0], data.mask[0]
neighbours = None
### BEGIN SOLUTION
distance = np.hypot(*(points - points[0]).T)
distance = np.where(mask, distance, np.inf)
distance[0] = np.inf
neighbours = np.argsort(distance)[:7]
### END SOLUTION

# %%
jets.exercises.check_knn(neighbours, points, mask, particle=0, k=7)

# %% [markdown]
# The library's EdgeConv is these lines (`jets.models.EdgeConvBlock.forward_padded`). With
# `direct=True` it is the equation above: it builds $(x_i, x_j - x_i)$ for every edge, applies the
# MLP and averages over the $k$ neighbours. The default path gives the same numbers with less work:
# the first layer is linear, $W\,(x_i, x_j - x_i) = (W_1 - W_2)\,x_i + W_2\,x_j$, so it is applied
# once per particle instead of once per edge ($k$ times fewer products).

# %%
print(inspect.getsource(jets.models.EdgeConvBlock.forward_padded))
with torch_seed(seed):
    block = jets.models.EdgeConvBlock(k=7, in_channels=2, channels=(8, 8)).eval()
few = torch.as_tensor(data.points[:4], dtype=torch.float32)  # 4 jets' (deta, dphi) as points and features
with torch.no_grad():
    fast, direct = block.forward_padded(few, few), block.forward_padded(few, few, direct=True)
print(f"per-particle first layer vs per-edge: largest difference {(fast - direct).abs().max():.1e}")

# %% [markdown]
# Padded particles must never change the result for real ones. In ParticleNet their features
# are zeroed, their coordinates pushed far away so that they are never a real particle's
# neighbour, and they are left out of the pooling; in ParT they are masked out of every
# attention. We check it for each tagger: scrambling the padded slots of some jets (every
# input: coordinates, features, four-vectors) does not change the network output at all.

# %%
for name in taggers:
    with torch_seed(seed):  # seeded weights and noise, without reseeding torch's global stream
        probe = jets.models.build_tagger(name, input_dims=data.features.shape[2], num_classes=len(classes)).eval()
        inputs = [torch.as_tensor(a) for a in jets.training.model_inputs(probe, data, slice(0, 64))]
        padded = ~inputs[-1]
        scrambled = [x + torch.randn_like(x) * 10 * padded.unsqueeze(-1) for x in inputs[:-1]]
    with torch.no_grad():
        change = (probe(*inputs) - probe(*scrambled, inputs[-1])).abs().max().item()
    print(f"{name}: largest output change from scrambling padded particles: {change:.1e}")
    assert change == 0.0, name

# %% [markdown]
# Now the models themselves. With `use_pretrained = True` a tagger starts from the checkpoint
# shipped with the package where one fits this run (ParticleNet-Lite and the small ParT, top
# against QCD on cms-like jets with the `full` inputs, trained on other jets by
# `scripts/train_tagger_checkpoint.py`; the recipe is printed below) and is fine-tuned for
# `epochs` epochs at a tenth of the learning rate; otherwise it is trained from scratch. The loop
# validates after every epoch, follows a one-cycle learning-rate schedule, stops early when the
# validation loss stops improving and keeps the best weights (when fine-tuning, the starting
# weights count too).

# %%
models, pretrained, results_train = {}, {}, {}
for name in taggers:
    fits = name in jets.pretrained.available_pretrained() and task == "top"
    if use_pretrained and fits:
        model, recipe = jets.pretrained.load_pretrained(name, feature_names=data.feature_names)
        print(f"{name}: pretrained on {recipe['data']['n_jets']:,} jets: {recipe['command']}")
        print("  on its own test jets:", jets.pretrained.card_metrics_text(recipe))
        if recipe["data"].get("detector") != detector:
            print(f"  (trained on {recipe['data'].get('detector')} jets; this run has detector={detector!r})")
    else:
        if use_pretrained:
            print(f"{name}: no shipped checkpoint for task={task!r}; training from scratch")
        with torch_seed(seed):  # the initial weights come from the seed
            model = jets.models.build_tagger(name, input_dims=data.features.shape[2], num_classes=len(classes))
    models[name], pretrained[name] = model, use_pretrained and fits
    print(f"{name}: {jets.models.count_parameters(model):,} parameters")

# %%
for name, model in models.items():
    train, val = (jets.training.subset(data, split[k], model) for k in ("train", "val"))
    if epochs > 0:
        lr = learning_rate / 10 if pretrained[name] else learning_rate
        result = jets.training.train_tagger(
            model, train, val, epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, device=device, seed=seed
        )
        results_train[name] = result
        timings[f"training_s_{name}"], timings[f"train_jets_per_s_{name}"] = result.seconds, result.per_second
        print(f"{name}: best epoch {result.best_epoch + 1} (0: the starting weights), {result.per_second:.0f} jets/s")
        hn.save_figure(jets.plots.plot_history(result.history).figure, f"training_history_{name}")

# %% [markdown]
# ### A model trained on 100 million jets
#
# The networks above learn from a few thousand jets. The authors of the Particle Transformer trained
# ParticleNet and ParT on **JetClass**, 100 million jets of ten classes (QCD; $H \to b\bar b, c\bar c, gg,
# 4q, \ell\nu q q'$; $Z$, $W \to q\bar q$; $t \to bq\bar q'$, $t \to b\ell\nu$), and published the
# weights. `jets.jetclass.load_jetclass` builds the project's own ParticleNet (or ParT) in the paper's
# configuration ($k = 16$; 64, 128, 256 channels) and maps the published weights into it (the tests check
# that it gives weaver-core's scores to $10^{-5}$). Give its path as `jetclass_model`; the file is read as
# tensors only (`torch.load(weights_only=True)`), and the parameter check refuses, before any kernel starts,
# a file that is not such a model or was trained on another input set than this run's `feature_set`: the
# comparison below is between taggers that see the same information per particle (for the `kin` inputs,
# run with `feature_set = "kin"` and `ParticleNet_kin.pt`).
#
# We use it twice:
#
# 1. **as published**: its ten outputs give JetClass's own discriminant, $p_s / (p_s + p_{\rm QCD})$
#    ($p_{\rm Tbqq}$ for top jets). It reads the jets padded to JetClass's 128 particles, so we load them once
#    more (the same jets in the same order: the same split);
# 2. **fine-tuned** on this run's task, as the ParT paper fine-tunes its JetClass models on the top-tagging
#    dataset (particle_transformer's `train_TopLandscape.sh`: the last layer trained at 50 times the learning
#    rate of the rest): the last layer at `learning_rate`, the rest of the network at 1/50 of it, for `epochs`
#    epochs on this run's training jets, keeping the best validation loss. The paper starts from a new random
#    last layer; with a few thousand jets and a few epochs on a CPU we keep the published rows of the task's
#    classes instead (QCD and Tbqq for top tagging), so that fine-tuning starts from the published tagger
#    (`head="new"` of `jets.finetune.fine_tune` is the paper's choice). The BatchNorm statistics stay the
#    published ones: weaver, which trained them, counts the padded slots in the batch statistics, the
#    project's networks only the real particles, so the two agree only in evaluation mode, and fine-tuning
#    keeps BatchNorm there.
#
# Their rows join the comparison in section 5.

# %%
jetclass_labels, jetclass_results = {}, {}
if jetclass_model is None:
    print("jetclass_model = None: no published JetClass model, this section is skipped.")
    print(jets.jetclass.how_to_get())
else:
    published = jets.jetclass.load_jetclass(jetclass_model, feature_set=feature_set)
    known = jets.jetclass.published_name(jetclass_model)
    print(f"{published.name}: {jets.models.count_parameters(published):,} parameters, {feature_set!r} inputs;")
    print(f"  the published {known} (sha256 checked)" if known else "  not one of the published files (sha256)")
    arch = jets.models.TAGGER_LABELS[published.name.removesuffix("_jetclass")]
    jetclass_labels = {"jetclass": f"{arch} (JetClass)", "jetclass_finetuned": f"{arch} (JetClass, fine-tuned)"}

# %%
if jetclass_model is not None:
    start = time.perf_counter()
    padding = {"max_particles": jets.jetclass.JETCLASS_MAX_PARTICLES, "feature_set": feature_set}
    data_128 = jets.task_labels(jets.load_jets(files, **padding), task)
    assert np.array_equal(data_128.labels, data.labels), "the same jets in the same order"
    test_128 = [jets.take(data_128, split["test"])] + ([jets.load_jets(extra_files, **padding)] if extra else [])
    probs = np.concatenate([jets.jetclass.jetclass_probabilities(published, d, device=device) for d in test_128])
    jetclass_results["jetclass"] = jets.jetclass.jetclass_discriminant(probs, labels_eval, classes, signal=signal)
    timings["jetclass_inference_s"] = time.perf_counter() - start
    auc = hn.auc(*jetclass_results["jetclass"])
    print(f"published model, {signal} vs QCD: AUC {auc:.4f} ({timings['jetclass_inference_s']:.0f} s)")
    assert auc > 0.9, f"the published model's AUC {auc:.3f} is too low: are these jets like JetClass's?"

# %%
if jetclass_model is not None and epochs > 0:
    train_128, val_128 = (jets.training.subset(data_128, split[k], published) for k in ("train", "val"))
    tuned = jets.finetune.fine_tune(
        published, train_128, val_128, task=task, epochs=epochs, lr=learning_rate, batch_size=batch_size,
        patience=patience, device=device, seed=seed,
    )  # fmt: skip
    results_train["jetclass_finetuned"] = tuned
    timings["training_s_jetclass_finetuned"] = tuned.seconds
    timings["train_jets_per_s_jetclass_finetuned"] = tuned.per_second
    print(f"fine-tuned: best epoch {tuned.best_epoch + 1} (0: the published weights), {tuned.per_second:.0f} jets/s")
    hn.save_figure(jets.plots.plot_history(tuned.history).figure, "training_history_jetclass_finetuned")
    probs = np.concatenate([jets.jetclass.jetclass_probabilities(tuned.model, d, device=device) for d in test_128])
    jetclass_results["jetclass_finetuned"] = discriminant(probs, labels_eval)
    del train_128, val_128
if jetclass_model is not None:
    del data_128, test_128  # the jets padded to 128 particles are no longer needed

# %% [markdown]
# ## 5. Evaluation
#
# We compare the taggers on the test jets: the ROC curve (signal efficiency $\varepsilon_S$
# against background efficiency $\varepsilon_B$), its area (AUC), and the background
# rejection $1/\varepsilon_B$ at $\varepsilon_S = 30\,\%$ and $50\,\%$ — the numbers of
# the top-tagging comparison.
#
# A rejection of a few hundred means that only one QCD jet in a few hundred passes the cut: on a test
# set of a thousand QCD jets, the number rests on two or three jets. The test set therefore gets
# `n_test_qcd` extra QCD jets (the accuracy is class-balanced so that it stays comparable), and every
# $1/\varepsilon_B$ comes with its 68 % Clopper-Pearson interval on the count of passing QCD jets
# (`rej50_low`, `rej50_high`, `rej50_n_pass`) and the bootstrap percentiles (`_boot_low`, `_boot_high`).
# When no QCD jet passes, the test set only bounds the rejection from below: the table shows "> N".

# %%
label = jets.models.TAGGER_LABELS
results, test_scores = {}, {}
for name, model in models.items():
    start = time.perf_counter()
    probs = jets.training.predict_scores(model, *jets.training.model_inputs(model, data, split["test"]), device=device)
    timings[f"inference_jets_per_s_{name}"] = len(probs) / (time.perf_counter() - start)
    if extra:  # the test jets plus the extra QCD jets
        inputs = jets.training.model_inputs(model, extra)
        probs = np.concatenate([probs, jets.training.predict_scores(model, *inputs, device=device)])
    results[label[name]] = discriminant(probs, labels_eval)
    test_scores[name] = discriminant(probs[: len(labels_test)], labels_test)[1]
results.update({jetclass_labels[n]: r for n, r in jetclass_results.items()})  # the JetClass models, when given
results[f"baseline ({baseline_kind})"] = discriminant(probs_baseline, labels_eval)
y_eval = results[f"baseline ({baseline_kind})"][0]
print(f"test set: {int(y_eval.sum())} {signal} jets, {int((y_eval == 0).sum())} QCD jets")
table = jets.study.compare_taggers(results, seed=seed)
table[["accuracy", "auc", "auc_err", "rej50_text", "rej50_n_pass", "rej30_text", "rej30_n_pass"]]

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 6), layout="constrained")
plot_roc(results, ax=ax1)
plot_rejection(results, ax=ax2)
hn.save_figure(fig, "roc")
score_pn = test_scores[taggers[0]]  # the first tagger's test scores, for the exercises below
for name in taggers:
    auc = hn.auc(y_test, test_scores[name])
    assert auc > 0.8, f"{name} AUC {auc:.3f} is too low"
    if pretrained[name]:  # trained on many more jets than this run, it should not lose to the baseline
        assert auc > auc_baseline - 0.005, f"{name} {auc:.4f} below the baseline {auc_baseline:.4f}"
    print(f"AUC on the 15 % test split (no extra QCD jets): {label[name]} {auc:.4f}, baseline {auc_baseline:.4f}")

# %% [markdown]
# What the numbers of this run say, computed from the table above: an AUC difference counts when it
# exceeds twice the two bootstrap uncertainties added in quadrature, a rejection difference when the
# two 68 % Clopper-Pearson intervals do not overlap. The two can disagree: the AUC averages over all
# working points, while $1/\varepsilon_B$ at 50 % or 30 % counts the few QCD jets that look most like tops.

# %%
print(jets.study.verdict(table, baseline=f"baseline ({baseline_kind})"))

# %% [markdown]
# The published numbers on the reference dataset (which includes a Delphes detector
# simulation, so jets are less sharp than ours) are shown for orientation:

# %%
jets.study.reference_table()

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.5))
jets.plots.plot_scores(y_test, score_pn, label=label[taggers[0]], ax=ax1)
jets.plots.plot_scores(y_test, score_baseline, label="baseline", ax=ax2)
hn.save_figure(fig, "scores")

# %% [markdown]
# ### Exercise 3: background rejection
#
# Compute the background rejection $1/\varepsilon_B$ of the first tagger at a signal efficiency
# of 50 % from `y_test` and `score_pn`, without `hn.rejection_at`: the ROC curve from
# `sklearn.metrics.roc_curve` gives $\varepsilon_B$ ("fpr") against $\varepsilon_S$ ("tpr");
# interpolate it at $\varepsilon_S = 0.5$ and invert.

# %%
from sklearn.metrics import roc_curve

rejection50 = None
### BEGIN SOLUTION
fpr, tpr, _ = roc_curve(y_test, score_pn)
eps_b = np.interp(0.5, tpr, fpr)
rejection50 = 1.0 / eps_b if eps_b > 0 else float("inf")
### END SOLUTION

# %%
jets.exercises.check_rejection(rejection50, y_test, score_pn, eps_s=0.5)

# %% [markdown]
# ## 6. Looking at jets
#
# The explorer shows test jets in the $(\Delta\eta, \Delta\phi)$ plane, marker area
# proportional to the particle $p_T$, charged particles in red, with the true label and
# both taggers' scores. Top jets often show three hard clusters; QCD jets one core.
# (Headless runs show one jet.)

# %%
test_jets = jets.take(data, split["test"])
test_jets = jets.take(test_jets, np.isin(test_jets.labels, [classes.index(c) for c in (signal, *background)]))
shown_scores = {**{label[n]: test_scores[n] for n in taggers}, "baseline": score_baseline}
show = jets.plots.jet_display(test_jets, scores=shown_scores)
explorer = hn.explore(show, index=(0, len(test_jets) - 1))

# %% [markdown]
# ## 7. Export to ONNX
#
# Experiments run taggers inside C++ reconstruction software through ONNX Runtime. We export
# each network (eval mode; inputs `points`, `features`, `mask` for ParticleNet, `features`,
# `four_vectors`, `mask` for ParT; output softmax `scores`) and check that ONNX Runtime gives
# the same scores as PyTorch. The export uses torch's TorchScript-based
# exporter (`torch.onnx.export(..., dynamo=False)`): torch's newer `dynamo=True` exporter also handles
# ParticleNet, but needs the extra package `onnxscript` and takes several times longer.

# %%
onnx_diff = {}
for name, model in models.items():
    onnx_path = jets.export.export_onnx(
        model.cpu(), hn.run_dir() / f"{name}.onnx", n_particles=max_particles, n_features=data.features.shape[2]
    )
    inputs = jets.training.model_inputs(model, data, split["test"][:256])
    onnx_diff[name] = jets.export.compare_onnx(model, onnx_path, *inputs)
    print(f"{onnx_path.name}: largest |ONNX - torch| score difference {onnx_diff[name]:.1e}")
    assert onnx_diff[name] < 1e-5, name

# %% [markdown]
# ## 8. Results
#
# The key numbers go to `metrics.json` in the run folder, for tests and parameter sweeps.

# %%
# 1/eps_B with its 68 % Clopper-Pearson interval and bootstrap percentiles, per tagger
summaries = {name: jets.tagger_summary(*results[label[name]], n_boot=100, seed=seed) for name in taggers}
summaries.update({n: jets.tagger_summary(*r, n_boot=100, seed=seed) for n, r in jetclass_results.items()})
summaries["baseline"] = jets.tagger_summary(*results[f"baseline ({baseline_kind})"], n_boot=100, seed=seed)
rel_err50 = {n: (s.rej50_high - s.rej50_low) / (2 * s.rej50) for n, s in summaries.items()}
for name, summary in summaries.items():
    print(f"{name} 1/eps_B at 50 %: {summary.rej50:.0f}, relative uncertainty {rel_err50[name]:.0%}")
metrics = hn.record_metrics(
    task=task,
    detector=detector,
    feature_set=feature_set,
    taggers=list(taggers),
    signal=signal,
    n_jets=len(data),
    n_test=len(y_test),
    n_test_qcd_extra=len(extra) if extra else 0,
    use_pretrained=use_pretrained,
    jetclass_model=(known or os.path.basename(jetclass_model)) if jetclass_model else None,
    **{f"rej50_rel_err_{n}": v for n, v in rel_err50.items()},
    **{k: v for n, s in summaries.items() for k, v in s.metrics(suffix=f"_{n}").items()},  # auc_<tagger>, rej50_...
    epochs_run={n: len(r.history) for n, r in results_train.items()},
    onnx_max_diff=max(onnx_diff.values()),
    timings=timings,
)
print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items() if k != "timings"})

# %% [markdown]
# ### Going further
#
# * Set `use_pretrained = False` and `epochs = 10` to train from scratch and compare the AUC with the
#   substructure baseline's above: on a few thousand training jets a network that learns its features
#   from particles usually ends up *below* a BDT on 16 physics observables; it needs much more data.
#   The shipped models' training set sizes are printed in section 4 (from their recipe cards); the
#   ParticleNet paper used 1.2 million jets, ParT 100 million (JetClass).
# * `task = "w"`, `"z"` or `"multiclass"` tags bosons (or all five classes at once); `detector = "none"`
#   shows how much the detector costs; `feature_set = "kin"` how much the particle identification and
#   the impact parameters are worth.
# * `taggers = ["particlenet", "part"]` are the papers' full models: slow on a CPU (the `full` profile).
# * Point `data_path` at files of the real JetClass dataset (`*_TTBar_*` and `*_ZJetsToNuNu_*`).
# * The same jets feed the FPGA tutorial: `jets.high_level_dataset` builds its five-class dataset.
