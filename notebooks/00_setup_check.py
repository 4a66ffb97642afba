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
# # 00 · Setup check
#
# Run this notebook **before the school**. It checks that every piece the tutorials need works on
# your machine — Python packages, ROOT I/O with uproot, a quantum circuit on a simulator, an FPGA
# model compiled with hls4ml, and event generation with Pythia8 + fastjet — and ends with a table of
# OK / FAILED, with the fix for each failure. Nothing is downloaded: everything runs locally.
#
# Run it from the command line with `hepml-nb run setup`, or here with *Run → Run All Cells*.

# %%
import hepml_nb as hn
from hepml_nb.course import setup_check

# %% tags=["parameters"]
n_events = 20  # Pythia8 pp -> dijet events to generate and cluster
jet_radius = 0.4  # anti-kT radius R of the fastjet check
check_fpga = True  # convert and compile a tiny model with hls4ml and g++ (about 10 s)
seed = 1  # random seed of every check
fail_on_error = True  # stop with an error at the end if any check failed

# %% [markdown]
# ## Packages and hardware
#
# Every package is imported and its version reported. A GPU is optional: all tutorials run on a
# laptop CPU with their default parameters.

# %%
package_checks = setup_check.check_imports() + setup_check.check_hardware()
setup_check.checks_table(package_checks)

# %% [markdown]
# ## ROOT files and a quantum circuit
#
# A small ROOT file with a jagged branch (like the jet constituents of the first tutorial) is
# written and read back with uproot. Then a Bell state $(|00\rangle + |11\rangle)/\sqrt{2}$ is
# prepared and measured on the Aer simulator: only `00` and `11` may appear.

# %%
# NBVAL_CHECK_OUTPUT
io_checks = [setup_check.check_uproot(), setup_check.check_qiskit(seed=seed)]
print([(c.name, "OK" if c.ok else "FAILED") for c in io_checks])

# %% [markdown]
# ## FPGA emulation and event generation
#
# hls4ml translates a neural network into C++ for high-level synthesis; compiling that C++ with g++
# gives a bit-accurate emulation of the FPGA firmware, which is compared with PyTorch. Then Pythia8
# generates proton-proton dijet events at 14 TeV and fastjet clusters them with the anti-$k_T$
# algorithm.

# %%
slow_checks = [setup_check.check_hls4ml(seed)] if check_fpga else []
slow_checks.append(setup_check.check_pythia_fastjet(n_events, radius=jet_radius, seed=seed))
setup_check.checks_table(slow_checks)

# %% [markdown]
# ## Summary
#
# Every row should say OK. For a FAILED row, apply the fix in the last column and run the notebook again.

# %%
checks = package_checks + io_checks + slow_checks
table = setup_check.checks_table(checks)
n_failed = int((table.status == "FAILED").sum())
print(f"{len(checks) - n_failed} of {len(checks)} checks OK")
table

# %% [markdown]
# ## Explore the checks
#
# Pick a check to see what it found (in JupyterLab this is a drop-down; run headless it shows the first check).

# %%
explorer = hn.explore(lambda name: table[table.check == name].T, name=list(table.check))

# %% [markdown]
# ## Warm-up exercise: how exercises work
#
# Each tutorial has exercises: you write code between the marked lines, and the next cell checks
# your answer and gives a hint when it is wrong.
#
# **Task.** Two photons have four-momenta $(E, p_x, p_y, p_z)$ = `p1` and `p2` in GeV. Compute their
# invariant mass $m = \sqrt{(E_1+E_2)^2 - |\vec p_1 + \vec p_2|^2}$ and store it in `mass`.

# %%
import numpy as np

p1 = np.array([62.5, 0.0, 40.0, 48.0])
p2 = np.array([70.0, 0.0, -56.0, 42.0])
### BEGIN SOLUTION
e, px, py, pz = p1 + p2
mass = np.sqrt(e**2 - px**2 - py**2 - pz**2)
### END SOLUTION

# %%
setup_check.check_invariant_mass(mass, p1, p2)

# %% [markdown]
# ## Results
#
# The checks are written to `metrics.json` in the run folder.

# %%
hn.record_metrics(
    n_checks=len(checks),
    n_failed=n_failed,
    all_ok=n_failed == 0,
    checks={c.name: "OK" if c.ok else "FAILED" for c in checks},
)
if fail_on_error and n_failed:
    raise RuntimeError(f"{n_failed} setup checks FAILED: see the table above for the fixes")
