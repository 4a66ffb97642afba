"""hepml_nb: helpers behind the hepml-nb tutorial notebooks.

``import hepml_nb as hn`` gives the runtime kit of :mod:`hepml_nb.core` (``hn.record_metrics``,
``hn.save_figure``, ``hn.cached_file`` ...) and ``hn.run(topic, profile=..., **params)``. Topic code
lives in ``hepml_nb.jets``, ``hepml_nb.qml``, ``hepml_nb.calo`` and ``hepml_nb.fpga``; the course
machinery (catalog, runner, sweeps, grading, book, pack, the ``hepml-nb`` command) in
``hepml_nb.course``.
"""

from hepml_nb._version import __version__
from hepml_nb.core import *  # noqa: F403
from hepml_nb.core import __all__ as _core_all


def run(topic: str, profile: str = "default", out=None, **params):
    """Execute a topic's notebook; see :func:`hepml_nb.course.runner.run`."""
    from hepml_nb.course.runner import run as _run  # the course machinery loads only when a run is asked for

    return _run(topic, profile=profile, out=out, **params)


__all__ = [*_core_all, "run", "__version__"]
