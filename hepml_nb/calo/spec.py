"""The calogan topic: its notebook, profiles and parameter rules (names from :mod:`hepml_nb.calo.names`).

Import-light (no numpy, torch or h5py): the course catalog reads it for ``hepml-nb list``.
"""

from __future__ import annotations

from typing import Any

from hepml_nb.calo.names import LEVELS
from hepml_nb.core.rules import Cost, Rule, input_file, one_of, size
from hepml_nb.core.topics import DEVICE_RULE, Headline, topic

__all__ = ["TOPIC"]

#: calogan, benchmarks/results/notebooks-{ci,default}-calogan.json: 868 MiB peak at n_eval 3,000 and 1,485 MiB
#: at 20,000, so about 38 kB more per evaluated shower
_EVAL_SHOWER = Cost("shower", bytes=3.8e4, basis="the ci and default benchmark records: 868 MiB at 3,000, 1,485 at 20k")
#: a training shower of the CaloGAN geometry: 504 float32 cells and the float32 copy torch trains on
_TRAIN_SHOWER = Cost("shower", bytes=2 * 504 * 4, basis="504 float32 cells and their training copy")
#: the WGAN-GP in the CaloGAN geometry: 16,000 iterations in 21 min on one core
_GAN_ITERATION = Cost("iteration", seconds=0.079, basis="16,000 iterations took 21 min on one core")
#: the shipped flow-matching model: 8,000 steps of 256 showers in 565 s on 2 cores (its recipe card)
_FM_STEP = Cost("step", seconds=0.071, basis="8,000 steps of 256 showers took 565 s on 2 cores")
#: the challenge-preset classifier on 100,000 vs 100,000 showers: 26 s per epoch on 2 cores
_CLASSIFIER_EPOCH = Cost("epoch", seconds=52, basis="26 s per epoch on 2 cores at 100,000 vs 100,000 showers")
#: two samples of 504 float32 cells in the challenge-preset test (the classifier's copies come on top)
_CHALLENGE_SHOWER = Cost("shower", bytes=2 * 504 * 4, basis="two samples of 504 float32 cells")
#: a dataset-2 shower: 6,480 float32 voxels; GFlash makes about 5,200 per second on 2 cores
_DS2_SHOWER = Cost("shower", bytes=6480 * 4, seconds=2 / 5200, basis="6,480 float32 voxels; GFlash 5,200/s on 2 cores")


def _check_shower_file(value: Any, **extra: Any) -> Any:
    """``data_path``: a CaloGAN or CaloChallenge HDF5 file with enough showers (reads h5py only when called)."""
    from hepml_nb.calo.io import check_reference_file

    return check_reference_file(value, **extra)


TOPIC = topic(
    "calogan",
    "03_gan_shower_validation.ipynb",
    "GAN calorimeter-shower validation",
    "GFlash reference showers, a conditional WGAN-GP and conditional flow matching, CaloChallenge-style validation",
    rules={
        "n_eval": size(10, 1_000_000, _EVAL_SHOWER),
        "e_min": Rule(minimum=1e-3),
        "e_max": Rule(minimum=1e-3),
        "n_train": size(10, 1_000_000, _TRAIN_SHOWER),
        "gan_iterations": size(0, 1_000_000, _GAN_ITERATION),
        "fm_steps": size(1, 1_000_000, _FM_STEP),
        "classifier_epochs": size(1, 10_000, _CLASSIFIER_EPOCH),
        "challenge_levels": one_of(*LEVELS, items=True),
        "n_challenge": size(100, 1_000_000, _CHALLENGE_SHOWER),
        "n_ds2": size(10, 1_000_000, _DS2_SHOWER),
        "speed_batches": size(1, 100_000, _DS2_SHOWER, items=True, min_items=1),
        "data_path": input_file(_check_shower_file, needs=("n_eval",)),
        "device": DEVICE_RULE,
    },
    ci={"n_eval": 3000, "classifier_epochs": 4, "n_challenge": 200, "n_ds2": 200, "speed_batches": [1, 100]},
    full={
        "n_eval": 100000,
        "train_gan": True,
        "n_train": 100000,
        "gan_iterations": 30000,
        "fm_steps": 20000,
        "classifier_epochs": 50,
        "challenge_levels": ["low", "high"],
        "n_challenge": 100000,
        "n_ds2": 20000,
    },
    headline=(
        Headline("challenge AUC, high level: GAN", "challenge_auc_high", error="challenge_auc_err_high"),
        Headline(
            "challenge AUC, high level: flow matching",
            "challenge_flow_matching_auc_high",
            error="challenge_flow_matching_auc_err_high",
        ),
        Headline("challenge AUC, high level: floor", "challenge_floor_auc_high", error="challenge_floor_auc_err_high"),
        Headline("tutorial AUC, low level: GAN", "auc_low", error="auc_err_low"),
        Headline("tutorial AUC, low level: flow matching", "flow_matching_auc_low", error="flow_matching_auc_err_low"),
        Headline("tutorial AUC, low level: floor", "floor_auc_low", error="floor_auc_err_low"),
        Headline("tutorial AUC, high level: GAN", "auc_high", error="auc_err_high"),
        Headline(
            "tutorial AUC, high level: flow matching", "flow_matching_auc_high", error="flow_matching_auc_err_high"
        ),
        Headline("tutorial AUC, high level: floor", "floor_auc_high", error="floor_auc_err_high"),
        Headline("FPD: GAN", "fpd", error="fpd_err"),
        Headline("FPD: flow matching", "flow_matching_fpd", error="flow_matching_fpd_err"),
        Headline("FPD: floor", "floor_fpd", error="floor_fpd_err"),
        Headline("features with a poor verdict: GAN", "n_features_poor"),
        Headline("features with a poor verdict: flow matching", "n_features_poor_flow_matching"),
        Headline("time per shower at batch 1 [ms]", "speed_table.*.ms_b1"),
        Headline("time per shower at batch 1,000 [ms]", "speed_table.*.ms_b1000"),
    ),
)
