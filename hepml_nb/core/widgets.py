"""ipywidgets explorers that still give a static output under headless execution.

Under papermill/nbval (``HEPML_NB_HEADLESS=1``, set by the runner) or without
ipywidgets, :func:`explore` calls the function once with the initial values and
displays its result as an ordinary output; in JupyterLab it shows live controls.
The function returns what to show (a matplotlib Figure, a DataFrame, text); a
returned Figure is displayed once and closed, so the inline backend does not show
it a second time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

__all__ = ["is_headless", "explore"]

HEADLESS_ENV = "HEPML_NB_HEADLESS"


def is_headless() -> bool:
    """True when the notebook runs without a live front end (papermill, nbval, CI)."""
    return os.environ.get(HEADLESS_ENV, "") not in ("", "0")


def _initial(control: Any) -> Any:
    """Initial value of a control given as a widget, a (min, max[, step]) tuple, a list or a value."""
    if hasattr(control, "value"):
        return control.value
    if isinstance(control, tuple) and len(control) in (2, 3) and all(isinstance(v, (int, float)) for v in control):
        low, high = control[:2]
        return type(low)((low + high) / 2) if isinstance(low, int) else (low + high) / 2
    if isinstance(control, (list, tuple)):
        return control[0]
    return control


def _show(fn: Callable[..., Any]) -> Callable[..., None]:
    """Wrap ``fn`` so its result is displayed exactly once (figures are closed after display)."""
    from IPython.display import display

    def shown(**kwargs: Any) -> None:
        result = fn(**kwargs)
        if result is None:
            return
        display(result)
        if hasattr(result, "savefig"):
            import matplotlib.pyplot as plt

            plt.close(result)

    return shown


def explore(fn: Callable[..., Any], /, **controls: Any) -> Any:
    """Show ``fn`` with one control per keyword (``ipywidgets.interact`` abbreviations).

    Returns the interactive widget in a live session, ``None`` when headless.
    """
    from IPython.display import display

    shown = _show(fn)
    if not is_headless():
        try:
            import ipywidgets
        except ImportError:  # pragma: no cover - ipywidgets is a dependency
            pass
        else:
            widget = ipywidgets.interactive(shown, **controls)
            display(widget)
            return widget
    shown(**{name: _initial(c) for name, c in controls.items()})
    return None
