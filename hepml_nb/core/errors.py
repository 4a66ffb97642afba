"""Error types for mistakes a user can fix (bad parameters, missing files, wrong schema).

The command line prints these as one paragraph without a traceback; anything else
is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["HepmlError", "ParameterError", "DataError", "OutputError", "NotebookExecutionError"]


class HepmlError(Exception):
    """Base class for errors that carry a message telling the user what to fix."""


class ParameterError(HepmlError, ValueError):
    """An unknown parameter, a value of the wrong type, or an unknown topic/profile."""


class DataError(HepmlError, ValueError):
    """A missing input file, or a file whose keys, branches or shapes do not fit the schema."""


class OutputError(HepmlError, OSError):
    """A folder for results or the data cache cannot be created or written to."""


class NotebookExecutionError(HepmlError, RuntimeError):
    """A cell of an executed notebook raised; the message names the cell and its exception."""
