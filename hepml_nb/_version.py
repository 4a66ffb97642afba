"""The version of hepml-nb, defined once (pyproject.toml reads it; ``hepml_nb.__version__``)."""

__version__ = "0.1.0"
