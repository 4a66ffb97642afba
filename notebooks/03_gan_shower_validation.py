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
# # Validating generative models of calorimeter showers: a GAN and flow matching
#
# Simulating how a particle showers in a calorimeter is the most expensive step of the
# LHC experiments' simulation chain. ATLAS already runs **FastCaloGAN** (generative
# adversarial networks per particle and detector region, arXiv:2109.02551) in production,
# and the **Fast Calorimeter Simulation Challenge** (CaloChallenge, arXiv:2410.21611)
# compared dozens of generative models on common datasets and common metrics.
#
# A generative model is only useful when we can say, with numbers, *where it is good enough*.
# In this notebook you will
#
# 1. make reference showers with the Grindhammer-Peters (GFlash) parametrisation,
# 2. train (or load) two generators of every cell of a shower: a conditional Wasserstein GAN and
#    a conditional flow-matching model, of the family that did best in the CaloChallenge,
# 3. validate it the way the CaloChallenge does: high-level features with ratio panels,
#    separation powers, chi2/ndf per energy point, and a classifier test (AUC and JSD),
#    against a reference-vs-reference floor,
# 4. compare generation speed, and write a verdict table that is computed, not typed.

# %%
import inspect
import tempfile
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import hepml_nb as hn
from hepml_nb import calo
from hepml_nb.calo import exercises, features, plots, study, validation
from hepml_nb.core.history import TrainingHistory
from hepml_nb.core.plotting import plot_roc, use_style

# %% tags=["parameters"]
seed = 1  # random seed of the reference showers, the GAN sampling and the classifier
n_eval = 20000  # reference showers (and as many GAN showers) used for validation
e_min = 1.0  # lowest incident energy [GeV]
e_max = 100.0  # highest incident energy [GeV]
train_gan = False  # True: train the WGAN-GP and the flow-matching model here; False: load the pretrained ones
n_train = 20000  # showers to train on: GFlash, or the file's (only when train_gan is True)
gan_iterations = 1500  # generator updates (only when train_gan is True)
fm_steps = 1500  # optimiser steps of the flow-matching model (only when train_gan is True)
classifier_epochs = 20  # epochs of each tutorial-preset classifier test
challenge_levels = ["high"]  # inputs of the challenge-preset classifier test (3 x 2048, 50 epochs): low, high
n_challenge = 2000  # showers per sample in the challenge-preset test (the challenge: its whole test files)
n_ds2 = 2000  # showers in the dataset-2 geometry (speed and challenge-format demo)
speed_batches = [1, 10, 100, 1000, 10000]  # batch sizes of the speed table (time per shower at each)
data_path = None  # optional CaloGAN or CaloChallenge HDF5 file (Geant4 showers, any dataset) to use instead
device = "auto"  # torch device of the generators: auto, cpu or cuda

# %%
use_style("ATLAS")
device = hn.resolve_device(device)  # resolved once: the library takes this torch.device as it is
geo = calo.get_geometry("calogan")
print(f"GAN device: {device}; geometry {geo.name}: layers {geo.layer_shapes}, {geo.n_cells} cells")

# %% [markdown]
# ## 1. Reference showers from the GFlash parametrisation
#
# An electromagnetic shower is described in units of the radiation length $X_0$ (depth $t$)
# and the Molière radius $R_M$ (radius $r$). Grindhammer and Peters (arXiv:hep-ex/0001020)
# parametrised it from Geant simulations:
#
# * **Longitudinal profile**: $\frac{dE}{dt} = E\,\frac{(\beta t)^{\alpha-1}\beta e^{-\beta t}}{\Gamma(\alpha)}$,
#   a gamma distribution whose maximum sits at $T = (\alpha-1)/\beta$. With $y = E/E_c$
#   ($E_c$ the critical energy), on average $T = \ln y - 0.858$: the maximum moves
#   deeper only logarithmically with energy.
# * **Fluctuations**: shower by shower, $\ln T$ and $\ln \alpha$ are drawn from a correlated
#   two-dimensional Gaussian (correlation $\rho \approx 0.6$). This is what makes showers
#   differ from each other, and what a generative model must learn.
# * **Radial profile**: at depth $\tau = t/T$ a narrow *core* (radius $R_C$) and a wide *tail*
#   ($R_T$) mix with weight $p(\tau)$: $f(r) = p\,\frac{2rR_C^2}{(r^2+R_C^2)^2} + (1-p)\,\frac{2rR_T^2}{(r^2+R_T^2)^2}$.
# * **Spots**: the energy is deposited in discrete spots drawn from these profiles; each spot
#   carries a sampling fluctuation, so the total follows a stochastic term $a/\sqrt{E}$ (10 % here).
#
# The showers are deposited into the CaloGAN geometry: three read-out layers of lead/liquid argon
# with $3\times96$, $12\times12$ and $12\times6$ cells (504 in all), bounded as in CaloGAN's Geant4
# geometry (80 layers of 2 mm Pb + 4 mm LAr) at 90, 437 and 480 mm depth, i.e. about 5.8, 22.2
# and 2.8 $X_0$ with the effective $X_0 = 15.6$ mm used here.

# %% [markdown]
# ### Exercise 1: where is the shower maximum?
#
# Compute the depth of the maximum of the *average* longitudinal profile, $T = \ln(E/E_c) - 0.858$
# (in $X_0$), for a 50 GeV electron in this calorimeter. The critical energy in MeV is
# `geo.material.ec_mev`. Store it in `t_max`.

# %%
t_max = None  # depth of the maximum [X0]
### BEGIN SOLUTION
t_max = np.log(50.0 * 1000.0 / geo.material.ec_mev) - 0.858
print(f"T_max = {t_max:.2f} X0; layer boundaries at {', '.join(f'{t:.2f}' for t in geo.layer_edges_x0)} X0")
### END SOLUTION

# %%
exercises.check_shower_max(t_max, 50.0, geo.material)

# %% [markdown]
# Now the reference samples. `reference` is what the GAN is compared to; `reference_2` is a
# second, independent GFlash sample with another seed: comparing the two gives the **floor**
# of every metric (what a perfect generator would score with this many showers). Samples are
# cached, so a second run starts at once.
#
# When `data_path` points to a shower file, CaloGAN's (for example Geant4 positrons) or the
# CaloChallenge's (any of datasets 1, 2 and 3, recognised by its voxel count), the file provides
# everything: after a seeded shuffle, `n_eval` of its showers are the reference, the next `n_eval`
# the floor sample, and up to `n_train` of the rest train both generators here (the pretrained
# generators learnt GFlash, not your file). Energy range and geometry come from the file.

# %%
if data_path is None:
    reference, gflash_rate = calo.reference_showers(n_eval, e_min=e_min, e_max=e_max, seed=seed)
    reference_2, _ = calo.reference_showers(n_eval, e_min=e_min, e_max=e_max, seed=seed + 1000)
    ref_name = "GFlash"
else:
    split = calo.file_samples(data_path, n_eval=n_eval, n_train=n_train, seed=seed)  # checked, then shuffled
    reference, reference_2, file_train = split.reference, split.floor, split.train
    geo, e_min, e_max = calo.get_geometry(reference.geometry), split.e_min, split.e_max
    train_gan, ref_name = True, "file"
    print(f"{data_path}: geometry {geo.name}, E_inc {e_min:.3g}-{e_max:.3g} GeV, {len(file_train)} showers to train on")
print(f"{len(reference)} + {len(reference_2)} reference showers, {reference.cells.shape[1]} cells each")

# %% [markdown]
# ### Exercise 2: the response $E_\mathrm{tot}/E_\mathrm{inc}$
#
# The most basic feature is the fraction of the incident energy seen in the calorimeter.
# Cells are in MeV (`reference.cells`, shape (N, 504)), incident energies in GeV
# (`reference.e_inc`, shape (N,)). Compute it for every shower as `response`.

# %%
response = None  # E_tot/E_inc per shower, shape (N,)
### BEGIN SOLUTION
response = reference.cells.sum(axis=1) / (1000.0 * reference.e_inc)
### END SOLUTION

# %%
exercises.check_response(response, reference)

# %% [markdown]
# The output of the next cell is checked by nbval when the notebook is re-executed: with the
# same parameters the seeded simulation must give the same shape and mean response.

# %%
# NBVAL_CHECK_OUTPUT
ref_features = features.shower_features(reference)
print("showers:", reference.cells.shape)
print("mean E_tot/E_inc:", round(float(ref_features["etot_over_einc"].mean()), 3))

# %%
response_mean = float(ref_features["etot_over_einc"].mean())
if data_path is None:  # our own GFlash showers: a response outside this range is a bug in the simulation
    assert 0.9 < response_mean < 1.05, f"GFlash response {response_mean:.3f} off: check the simulation"
else:  # a user's file: its values and units were checked by calo.read_showers above
    print(f"mean E_tot/E_inc of the showers in {data_path}: {response_mean:.3f}")

# %% [markdown]
# ## 2. The generative model: a conditional WGAN-GP
#
# The generator maps 64 Gaussian noise numbers and the incident energy (the *condition*, as
# $\log E$ scaled to $[-1, 1]$) through two hidden layers to all 504 cells. Two choices matter:
#
# * **Preprocessing.** Cell energies span six orders of magnitude, so the network works with
#   energy *fractions* $f = E_\mathrm{cell}/E_\mathrm{inc}$ on a log scale,
#   $u = \ln(1 + f/f_0)/\ln(1 + 1/f_0)$ with $f_0 = 10^{-4}$. A ReLU output of exactly 0 is an
#   empty cell, so the generator can reproduce sparsity.
# * **Wasserstein loss with gradient penalty** (Gulrajani et al., arXiv:1704.00028). The critic
#   $D$ estimates the Wasserstein distance between real and generated showers,
#   $\max_D\, \mathbb{E}[D(x_\mathrm{real})] - \mathbb{E}[D(x_\mathrm{fake})]$, kept 1-Lipschitz by penalising
#   $(\lVert\nabla D\rVert - 1)^2$ on random mixtures of real and fake showers. It trains far more
#   stably than the original GAN loss; CaloGAN and FastCaloGAN both use it. Here the critic also
#   sees the energy fraction in each layer, which helps the generator learn them.
#
# Training for good quality takes a while on a CPU, so by default the notebook loads the small
# generator shipped with the package (the recipe is recorded with it: `scripts/train_calogan_checkpoint.py`).
# Set `train_gan = True` to train here, with progress and periodic validation.

# %%
if train_gan:
    if data_path is None:
        train_set, _ = calo.reference_showers(n_train, e_min=e_min, e_max=e_max, seed=seed + 2000)
    else:
        train_set = file_train
    config = calo.GanConfig(geometry=geo.name, e_min=e_min, e_max=e_max)
    trained = calo.train_wgan_gp(train_set, config=config, n_iterations=gan_iterations, seed=seed, device=device)
    generator, history = trained.model, trained.history
    print(f"trained for {gan_iterations} iterations on {len(train_set)} showers")
else:
    generator, recipe = calo.load_pretrained()  # its GanConfig travels with it: generator.config
    history = TrainingHistory.from_records(recipe.get("history", []), step="iteration")  # as train_wgan_gp's
    print("loaded the pretrained generator; recipe:", recipe.get("command", "unknown"))

# %%
ax = plots.plot_history(history)
ax.set_title("WGAN-GP training: critic's Wasserstein estimate and S(E_tot/E_inc)")
hn.save_figure(ax.figure, "training_history")

# %% [markdown]
# The gradient penalty is these lines of the library (`calo.gan.gradient_penalty`); the training loop
# adds it to the critic's loss with weight `lambda_gp = 10` at every critic step:

# %%
print(inspect.getsource(calo.gan.gradient_penalty))

# %% [markdown]
# ## 2b. A second generator family: conditional flow matching
#
# In the CaloChallenge the GANs were beaten by models that learn the density of the showers by
# maximum likelihood or by regression: normalizing flows, diffusion models and **flow matching**
# (arXiv:2410.21611). They cover every mode of the data instead of the few that fool a critic.
#
# Flow matching (Lipman et al., arXiv:2210.02747; the *rectified flow* of Liu et al., arXiv:2209.03003)
# learns a velocity field $v_\theta(x_t, t \mid c)$ that carries Gaussian noise $x_0$ at $t = 0$ to a
# shower $x_1$ at $t = 1$ along straight lines. Training is a plain regression: draw $t$ uniformly,
# mix $x_t = (1-t)\,x_0 + t\,x_1$, and fit $v_\theta(x_t, t \mid c)$ to $x_1 - x_0$. Sampling integrates
# $dx/dt = v_\theta$ from noise to $t = 1$ (here 8 steps of Heun's method, two network evaluations each).
#
# Ours follows the two-stage split of **CaloDREAM** (arXiv:2405.09629), one of the best entries on the
# challenge's datasets 2 and 3 (`calo.flowmatching`):
#
# * a small network generates the shower's *summary* given $E_\mathrm{inc}$: $E_\mathrm{tot}/E_\mathrm{inc}$
#   and, per layer (CaloGAN's $3\times96$ strip layer row by row), its energy share, number of hit cells,
#   centre of energy and width;
# * a larger network generates every cell given $E_\mathrm{inc}$ and the summary, as $\ln(q + 0.02)$ of the
#   cell's energy in GFlash "spot units" $q$ (about one unit per energy spot at any $E_\mathrm{inc}$);
#   empty cells are noise below $\ln 0.02$, so empty and hit cells are two separate ranges, not two
#   modes the network must split;
# * each generated layer keeps as many hit cells as its summary says (the largest values), is rescaled
#   to its energy share and tilted to the summary's centre and width.
#
# By default the notebook loads the model shipped with the package (its recipe card says how it was
# trained and how long it took on a 2-core CPU); `train_gan = True` trains one here for `fm_steps`
# steps. The training loss is these lines of the library (`calo.flowmatching.flow_matching_loss`), used
# for both networks:

# %%
print(inspect.getsource(calo.flowmatching.flow_matching_loss))

# %%
if train_gan:
    fm_config = calo.flowmatching.FlowMatchingConfig(geometry=geo.name, e_min=e_min, e_max=e_max)
    fm_trained = calo.flowmatching.train_flow_matching(
        train_set, config=fm_config, steps=fm_steps, seed=seed, device=device
    )
    fm_model = fm_trained.model
    print(f"trained flow matching for {fm_steps} steps on {len(train_set)} showers in {fm_trained.seconds:.0f} s")
else:
    fm_model, fm_recipe = calo.flowmatching.load_pretrained()
    print("loaded the pretrained flow-matching model; recipe:", fm_recipe.get("command", "unknown"))
    print(f"trained in {fm_recipe['train_seconds']:.0f} s wall, {fm_recipe['train_cpu_seconds']:.0f} s CPU")
print(f"flow matching: {sum(p.numel() for p in fm_model.parameters()):,} parameters")

# %% [markdown]
# Generate one GAN shower and one flow-matching shower for every reference shower, at the same incident
# energy, so all samples have identical energy spectra.

# %%
FM = "flow matching"  # the second family's name in every table below
generated = calo.generate_showers(generator, reference.e_inc, seed=seed, device=device)
fm_showers = calo.flowmatching.generate_showers(fm_model, reference.e_inc, seed=seed, device=device)
gen_features = features.shower_features(generated)
fm_features = features.shower_features(fm_showers)
floor_features = features.shower_features(reference_2)
for name, f in (("GAN", gen_features), (FM, fm_features)):
    print(f"{name}: {len(f['etot_over_einc'])} showers; mean E_tot/E_inc = {f['etot_over_einc'].mean():.3f}")

# %% [markdown]
# ### Shower viewer
#
# Average layer images near an incident energy: reference, GAN and flow matching (rows). Move the slider
# to see the shower grow and deepen with energy; tick `single` to see one shower instead of the mean.
# The CaloChallenge's cylindrical geometries are drawn as voxels in angle and radius around the
# shower axis, for up to six of their layers.

# %%
samples = {ref_name: reference, "GAN": generated, FM: fm_showers}


def show(energy=50.0, single=False):
    return plots.view_showers(samples, energy, single=single)


viewer = hn.explore(show, energy=(e_min + 1.0, e_max - 1.0, 1.0), single=False)

# %% [markdown]
# ## 3. High-level features
#
# The CaloChallenge compares distributions of physics-motivated features: the response
# $E_\mathrm{tot}/E_\mathrm{inc}$, the energy fraction in each layer, the centre of energy and
# the shower width in $x$ and $y$ in each layer, the sparsity (fraction of empty cells) and
# the spectrum of cell energies (on the challenge's own datasets: its definitions, with the energy
# per layer and centres and widths in $r$ and in its $\eta$, $\phi$ coordinates). Below, each panel
# shows the reference, the GAN, flow matching and the second reference sample, unit-normalised, with the
# ratio to the reference underneath.

# %%
shown = [*features.headline_features(geo.name), "cell_log10e"]
spectra = {
    k: features.cell_energy_spectrum(s)
    for k, s in (("ref", reference), ("gan", generated), ("fm", fm_showers), ("floor", reference_2))
}
ref_plot = {**ref_features, "cell_log10e": spectra["ref"]}
others = {
    "GAN": {**gen_features, "cell_log10e": spectra["gan"]},
    FM: {**fm_features, "cell_log10e": spectra["fm"]},
    f"{ref_name}, 2nd sample": {**floor_features, "cell_log10e": spectra["floor"]},
}
fig = plots.plot_features(ref_plot, others, shown, ref_label=ref_name)
hn.save_figure(fig, "features")

# %% [markdown]
# ### Exercise 3: separation power by hand
#
# The separation power of two histograms $h_1$, $h_2$ with the same bins, each normalised to unit
# sum, is $S = \frac12 \sum_i \frac{(h_{1,i} - h_{2,i})^2}{h_{1,i} + h_{2,i}}$ (bins empty in both are
# skipped). It is 0 for identical and 1 for disjoint distributions. Compute it for the response
# of the reference and the GAN from the counts `h_ref` and `h_gan` below, as `s_by_hand`.

# %%
edges = validation.common_bins(ref_features["etot_over_einc"])
h_ref = np.histogram(ref_features["etot_over_einc"], edges)[0]
h_gan = np.histogram(gen_features["etot_over_einc"], edges)[0]
s_by_hand = None  # separation power of h_ref and h_gan
### BEGIN SOLUTION
p, q = h_ref / h_ref.sum(), h_gan / h_gan.sum()
filled = (p + q) > 0
s_by_hand = 0.5 * np.sum((p[filled] - q[filled]) ** 2 / (p[filled] + q[filled]))
### END SOLUTION

# %%
exercises.check_separation_power(s_by_hand, h_ref, h_gan)

# %% [markdown]
# ### chi2/ndf per incident-energy point
#
# FastCaloGAN quotes, for each energy point it was trained on, the $\chi^2/\mathrm{ndf}$ between
# the Geant4 and GAN histograms of the total energy. Our incident energies are continuous, so we
# use slices of incident energy. Statistical errors of both samples enter, so a perfect model
# gives about 1 (the grey line): the reference-vs-reference curve shows it.

# %%
slices = np.linspace(e_min, e_max, 6)
chi2 = {
    label: validation.chi2_per_energy(
        ref_features["etot_over_einc"], reference.e_inc, f["etot_over_einc"], s.e_inc, energy_edges=slices
    )
    for label, f, s in (
        ("GAN", gen_features, generated),
        (FM, fm_features, fm_showers),
        (f"{ref_name}, 2nd sample", floor_features, reference_2),
    )
}
ax = plots.plot_chi2(chi2)
ax.set_title(r"$E_{tot}/E_{inc}$ per energy slice")
hn.save_figure(ax.figure, "chi2_per_energy")

# %% [markdown]
# ## 4. The whole validation suite: separation powers and the classifier test
#
# A classifier is trained to tell GAN showers (label 1) from reference showers (label 0), once on
# the cells (*low-level*) and once on the high-level features, each with $\log E_\mathrm{inc}$.
# On a test split we quote the **AUC** (0.5 means the classifier cannot tell them apart) and the
# **JSD** $= (\ln 2 - \mathrm{BCE})/\ln 2$, computed from the binary cross-entropy after isotonic
# calibration of the output on a validation split (0 means identical, 1 perfectly separable), each
# with its bootstrap error over the test set. The JSD estimator fluctuates below 0 when the samples
# cannot be separated; the JSD is non-negative by definition, so the table shows it clipped at 0
# (the unclipped value is kept as `jsd_raw`). The same suite on reference vs reference gives the floor.
#
# Two protocols, labelled in the `preset` column:
#
# * `tutorial`: a small DNN (2 $\times$ 256 units with dropout, `classifier_epochs` epochs), fast
#   enough to rerun in class;
# * `challenge`: the CaloChallenge's own `evaluate.py` (arXiv:2410.21611): its inputs, not
#   standardised (logarithms of the energies, centres and widths divided by 100), 3 hidden layers of
#   2048 LeakyReLU units in float64, Adam with learning rate $2\times10^{-4}$, batch 1000, 50 epochs,
#   the epoch of best selection-set accuracy, isotonic calibration, its 60k/20k/20k split of 100k-shower
#   files (60/20/20 otherwise) and its voxel threshold (15.15 keV on its datasets 2 and 3). Only these
#   rows are like-for-like with the challenge's published AUCs, which the table appends below them.
#   The guide compares the preset with `evaluate.py` itself on the same files.

# %%
validated = study.validation_study(
    reference,
    {"floor": reference_2, "GAN": generated, FM: fm_showers},
    reference_name=ref_name,
    epochs=classifier_epochs,
    challenge_levels=challenge_levels,
    n_challenge=n_challenge,
    seed=seed,
    device=device,
)
reports, labels = validated.reports, validated.labels
assert abs(reports["floor"].classifier["high"].auc - 0.5) < 0.06, "reference vs reference must be indistinguishable"
validated.table()

# %%
fig, ax = plt.subplots(figsize=(6, 5))
plot_roc(
    {
        f"{name}, {lv}-level": (r.classifier[lv].labels, r.classifier[lv].scores)
        for name, r in reports.items()
        for lv in ("low", "high")
    },
    ax=ax,
)
hn.save_figure(fig, "classifier_roc")

# %% [markdown]
# ### Frechet and kernel physics distances
#
# FPD and KPD (Kansal et al., arXiv:2211.10295) compare the joint distribution of the high-level
# features in one number each: every feature is standardised with the reference's mean and
# standard deviation; FPD is the Frechet distance of Gaussians fitted to the two sets, measured at
# several sample sizes and extrapolated linearly in $1/N$ to infinite $N$ (its error from the fit
# and a bootstrap); KPD is the unbiased MMD$^2$ with the cubic polynomial kernel over batches,
# quoted as median $\pm$ half the 16-84 % spread. Both are consistent with 0 for identical samples.

# %%
for name, rep in reports.items():
    fpd, kpd = rep.distances["fpd"], rep.distances["kpd"]
    print(f"{labels[name]:26s} {fpd}  ({fpd.significance():.1f} sigma)   {kpd}  ({kpd.significance():.1f} sigma)")

# %% [markdown]
# ### Exercise 4: JSD from the binary cross-entropy
#
# A classifier that cannot separate the samples outputs 0.5 everywhere, and its BCE is $\ln 2$
# nats. Compute the JSD of the high-level classifier of the GAN from its calibrated BCE
# (`reports["GAN"].classifier["high"].bce`, in nats) as `jsd`.

# %%
bce = reports["GAN"].classifier["high"].bce
jsd = None  # JSD from bce
### BEGIN SOLUTION
jsd = (np.log(2.0) - bce) / np.log(2.0)
### END SOLUTION

# %%
exercises.check_jsd(jsd, bce)

# %% [markdown]
# ## 5. Speed: why we want a generator at all
#
# GFlash is already a fast simulation (Geant4 takes seconds to minutes per shower at these
# energies); a neural network generates a batch of showers in one matrix product per layer.
# The CaloChallenge compares generators by the time per shower at batch sizes from 1 to 10,000
# on CPU and GPU (arXiv:2410.21611, first shown at CHEP 2023): at batch size 1 the per-call
# overhead dominates, which is how a simulation that asks for one shower at a time would use
# it. The table below has that shape, in milliseconds per shower, with the speed-up over GFlash
# (our reference simulation here, in place of Geant4) at the same batch size; GFlash runs in the
# geometry of the showers (it has no depth model of dataset 1, whose table is relative to the GAN).

# %%
energies = partial(calo.sample_incident_energies, e_min=e_min, e_max=e_max, seed=seed)
makers = {}
if geo.simulable:
    makers["GFlash (cpu)"] = lambda n: calo.simulate_showers(energies(n), geometry=geo.name, seed=seed, progress=False)
for where in dict.fromkeys([hn.resolve_device("cpu"), device]):  # the networks on the CPU, and on the GPU if any
    makers[f"GAN ({where})"] = lambda n, where=where: calo.generate_showers(
        generator, energies(n), batch_size=n, device=where
    )
    makers[f"{FM} ({where})"] = lambda n, where=where: calo.flowmatching.generate_showers(
        fm_model, energies(n), batch_size=n, device=where
    )
speed = study.speed_table(makers, batch_sizes=speed_batches, reference=next(iter(makers)), min_showers=20)
speed.style.format("{:.3g}")

# %% [markdown]
# ## 6. The challenge format: dataset-2 geometry
#
# The CaloChallenge distributes showers as HDF5 files with `incident_energies` and a flat `showers`
# array, voxels ordered radial bin fastest, then angular bin, then layer. Dataset 2 has 45 layers
# $\times$ 16 angular $\times$ 9 radial bins = 6480 voxels. GFlash deposits into this geometry as well;
# we write a file in the challenge format and read it back. Point `calo.read_showers` at a real
# challenge file to validate against Geant4.

# %%
ds2, ds2_rate = calo.reference_showers(n_ds2, geometry="dataset2", e_min=e_min, e_max=e_max, seed=seed)
with tempfile.TemporaryDirectory() as tmp:
    path = calo.write_challenge_h5(ds2, Path(tmp) / "dataset_2_gflash.hdf5")
    back = calo.read_showers(path)
assert np.array_equal(back.cells, ds2.cells) and np.allclose(back.e_inc, ds2.e_inc, rtol=1e-12)
print(f"dataset-2 geometry: GFlash makes {ds2_rate:,.0f} showers/s")

# %%
# NBVAL_CHECK_OUTPUT
print("challenge file read back:", back.cells.shape, "voxels = 45 x 16 x 9 =", 45 * 16 * 9)

# %% [markdown]
# ## 7. Verdict
#
# The table ranks every feature by its separation power, with the reference-vs-reference floor
# next to it; the verdict subtracts the floor and calls a feature *good* below 0.02, *fair*
# below 0.1 and *poor* above. It is computed from the numbers above, so it changes when the
# generator changes. The two generators side by side, in the GAN's order (worst first):

# %%
table = validation.verdict_table(reports["GAN"].separation, reports["floor"].separation)
fm_table = validation.verdict_table(reports[FM].separation, reports["floor"].separation)
print("GAN:          ", validation.verdict_summary(table))
print("flow matching:", validation.verdict_summary(fm_table))
side_by_side = table.merge(fm_table.drop(columns="floor"), on="feature", suffixes=(" (GAN)", f" ({FM})"))
side_by_side.round(4)

# %% [markdown]
# The two generator families side by side, from the numbers of this run: the classifier AUCs (with
# their bootstrap errors) and the time per shower at the largest batch of the speed table. Which one is
# closer to the reference, by each preset, follows the project's one comparison rule
# (`hepml_nb.core.metrics.compare_values`): a difference counts when it exceeds twice the two errors added
# in quadrature.

# %%
big = f"ms_b{max(speed_batches)}"
for name in ("GAN", FM):
    high = reports[name].classifier["high"]
    line = f"{name:13s} tutorial AUC high {high.auc:.3f} +/- {high.auc_err:.3f}"
    if validated.challenge:
        ch = validated.challenge[name].classifier[challenge_levels[0]]
        line += f", challenge AUC {challenge_levels[0]} {ch.auc:.3f} +/- {ch.auc_err:.3f}"
    print(f"{line}; {speed.loc[f'{name} (cpu)', big]:.3g} ms per shower at batch {max(speed_batches)} on the CPU")
print(validated.closer("GAN", FM))
if validated.challenge:
    print(validated.closer("GAN", FM, level=challenge_levels[0], preset="challenge"))

# %% [markdown]
# Read the table together with the classifier: a small separation power in every one-dimensional
# feature does not mean the showers are right, because correlations between cells and features
# are only probed by the classifier. Published models on CaloChallenge dataset 1 reach high-level
# AUCs of 0.54 (CaloDiffusion) to 0.95-0.97 (GAN entries), against 0.499 for Geant4 vs Geant4, with
# the challenge's protocol: compare them with the `challenge` rows of the table, not the `tutorial` ones.

# %%
metrics = hn.record_metrics(
    study.study_metrics(
        reference,
        source=str(data_path) if data_path else "GFlash",
        generator="pretrained" if not train_gan else f"trained here on {len(train_set)} showers",
        features={"reference": ref_features, "GAN": gen_features},
        validation=validated,
        verdicts={"GAN": table, FM: fm_table},
        chi2=chi2["GAN"],
        speed=speed,
        ds2_rate=ds2_rate,
    )
)
print({k: metrics[k] for k in ("auc_low", "auc_high", "jsd_high", "floor_auc_high", "n_features_poor")})

# %% [markdown]
# ## Where to go next
#
# * Train longer (`train_gan = True`, more `gan_iterations` and `fm_steps`, or
#   `scripts/train_calogan_checkpoint.py` on a GPU) and watch which verdicts change first.
# * Replace the reference by real Geant4 showers: the CaloGAN positron file or a CaloChallenge file via `data_path`.
# * Compare with the CaloChallenge results table: which features does flow matching fix, and what does it
#   cost per shower at batch 1, where a simulation that asks for one shower at a time would use it?
