"""Writes notebooks/00_setup_check.ipynb (outputs stripped). Edit here or in Jupyter, then strip outputs."""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = [
    new_markdown_cell(
        "# 00 · Setup check\n\n"
        "Run this notebook **before the school**. It checks that every piece the tutorials need works on "
        "your machine — Python packages, ROOT I/O with uproot, a quantum circuit on a simulator, an FPGA "
        "model compiled with hls4ml, and event generation with Pythia8 + fastjet — and ends with a table "
        "of OK / FAILED, with the fix for each failure. Nothing is downloaded: everything runs locally.\n\n"
        "Run it from the command line with `hepml-nb run setup`, or here with *Run → Run All Cells*."),
    new_code_cell("import hepml_nb as hn\nfrom hepml_nb.core import setup_check"),
    new_code_cell(
        "n_events = 20  # Pythia8 pp -> dijet events to generate and cluster\n"
        "jet_radius = 0.4  # anti-kT radius R of the fastjet check\n"
        "check_fpga = True  # convert and compile a tiny model with hls4ml and g++ (about 10 s)\n"
        "seed = 1  # random seed of every check\n"
        "fail_on_error = True  # stop with an error at the end if any check failed",
        metadata={"tags": ["parameters"]}),
    new_markdown_cell(
        "## Packages and hardware\n\nEvery package is imported and its version reported. A GPU is optional: "
        "all tutorials run on a laptop CPU with their default parameters."),
    new_code_cell("package_checks = setup_check.check_imports() + setup_check.check_hardware()\n"
                  "setup_check.checks_table(package_checks)"),
    new_markdown_cell(
        "## ROOT files and a quantum circuit\n\nA small ROOT file with a jagged branch (like the jet "
        "constituents of the first tutorial) is written and read back with uproot. Then a Bell state "
        "$(|00\\rangle + |11\\rangle)/\\sqrt{2}$ is prepared and measured on the Aer simulator: only `00` "
        "and `11` may appear."),
    new_code_cell("# NBVAL_CHECK_OUTPUT\nio_checks = [setup_check.check_uproot(), setup_check.check_qiskit(seed=seed)]\n"
                  "print([(c.name, 'OK' if c.ok else 'FAILED') for c in io_checks])"),
    new_markdown_cell(
        "## FPGA emulation and event generation\n\nhls4ml translates a neural network into C++ for "
        "high-level synthesis; compiling that C++ with g++ gives a bit-accurate emulation of the FPGA "
        "firmware, which is compared with PyTorch. Then Pythia8 generates proton-proton dijet events at "
        "14 TeV and fastjet clusters them with the anti-$k_T$ algorithm."),
    new_code_cell("slow_checks = [setup_check.check_hls4ml(seed)] if check_fpga else []\n"
                  "slow_checks.append(setup_check.check_pythia_fastjet(n_events, radius=jet_radius, seed=seed))\n"
                  "setup_check.checks_table(slow_checks)"),
    new_markdown_cell("## Summary\n\nEvery row should say OK. For a FAILED row, apply the fix in the last "
                      "column and run the notebook again."),
    new_code_cell("checks = package_checks + io_checks + slow_checks\n"
                  "table = setup_check.checks_table(checks)\n"
                  "n_failed = int((table.status == 'FAILED').sum())\n"
                  "print(f'{len(checks) - n_failed} of {len(checks)} checks OK')\n"
                  "table"),
    new_markdown_cell(
        "## Explore the checks\n\nPick a check to see what it found (in JupyterLab this is a drop-down; "
        "run headless it shows the first check)."),
    new_code_cell("hn.explore(lambda name: table[table.check == name].T, name=list(table.check));"),
    new_markdown_cell(
        "## Warm-up exercise: how exercises work\n\nEach tutorial has exercises: you write code between the "
        "marked lines, and the next cell checks your answer and gives a hint when it is wrong.\n\n"
        "**Task.** Two photons have four-momenta $(E, p_x, p_y, p_z)$ = `p1` and `p2` in GeV. Compute their "
        "invariant mass $m = \\sqrt{(E_1+E_2)^2 - |\\vec p_1 + \\vec p_2|^2}$ and store it in `mass`."),
    new_code_cell("import numpy as np\n\np1 = np.array([62.5, 0.0, 40.0, 48.0])\np2 = np.array([70.0, 0.0, -56.0, 42.0])\n"
                  "### BEGIN SOLUTION\ne, px, py, pz = p1 + p2\nmass = np.sqrt(e**2 - px**2 - py**2 - pz**2)\n"
                  "### END SOLUTION"),
    new_code_cell("setup_check.check_invariant_mass(mass, p1, p2)"),
    new_markdown_cell("## Results\n\nThe checks are written to `metrics.json` in the run folder."),
    new_code_cell("hn.record_metrics(n_checks=len(checks), n_failed=n_failed, all_ok=n_failed == 0,\n"
                  "                  checks={c.name: 'OK' if c.ok else 'FAILED' for c in checks})\n"
                  "if fail_on_error and n_failed:\n"
                  "    raise RuntimeError(f'{n_failed} setup checks FAILED: see the table above for the fixes')"),
]
nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"}})
nbformat.write(nb, Path(__file__).resolve().parents[1] / "notebooks" / "00_setup_check.ipynb")
