"""The runtime kit that topics and notebooks use: errors, lazy topic packages, cache, results, checkpoints,
devices, training history, metrics, plots, widgets, exercise checkers, input files and parameter rules.

It imports nothing from ``hepml_nb.course`` (the catalog, runner, grading, book and pack) or from a topic.
"""

from hepml_nb.core.cache import cache_dir, cached_arrays, cached_file
from hepml_nb.core.checkpoints import load_checkpoint, save_checkpoint
from hepml_nb.core.devices import resolve_device, torch_seed
from hepml_nb.core.errors import DataError, HepmlError, NotebookExecutionError, OutputError, ParameterError
from hepml_nb.core.exercises import Incorrect, checker, load_verdicts
from hepml_nb.core.history import TrainingHistory
from hepml_nb.core.lazy import MissingDependencyError
from hepml_nb.core.metrics import auc, bootstrap_auc, rejection_at, roc, tagging_summary
from hepml_nb.core.results import record_metrics, run_dir, save_figure
from hepml_nb.core.widgets import explore, is_headless

__all__ = [
    "cache_dir",
    "cached_arrays",
    "cached_file",
    "resolve_device",
    "torch_seed",
    "load_checkpoint",
    "save_checkpoint",
    "TrainingHistory",
    "HepmlError",
    "ParameterError",
    "DataError",
    "OutputError",
    "NotebookExecutionError",
    "MissingDependencyError",
    "Incorrect",
    "checker",
    "load_verdicts",
    "auc",
    "bootstrap_auc",
    "rejection_at",
    "roc",
    "tagging_summary",
    "record_metrics",
    "run_dir",
    "save_figure",
    "explore",
    "is_headless",
]
