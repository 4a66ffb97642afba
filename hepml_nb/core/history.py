"""One training-history shape for every training loop (jets taggers, calo generators, fpga tagger), and
one result shape (:class:`TrainResult`) for every training function.

A :class:`TrainingHistory` is a list of records, one per logged step, each a dict with the
step counter (``epoch`` or ``iteration``) and named losses or metrics::

    history = TrainingHistory("epoch")
    history.log(1, train_loss=0.52, val_loss=0.49)
    history["val_loss"]        # [0.49]: one value per record that has it
    history[-1]                # {"epoch": 1, "train_loss": 0.52, "val_loss": 0.49}
    for record in history: ...

Records may carry different names (the GAN logs losses every 50 iterations and
validation numbers at other steps). ``to_records()`` is the JSON form stored in recipe cards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

__all__ = ["TrainingHistory", "TrainResult"]


@dataclass
class TrainingHistory:
    """Records ``{step: n, name: value, ...}`` in the order they were logged.

    ``step`` names the counter: ``"epoch"`` (jets, fpga) or ``"iteration"`` (calo GAN).
    """

    step: str = "epoch"
    records: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]], *, step: str | None = None) -> TrainingHistory:
        """A history from records (e.g. a recipe card's ``history``); ``step`` guessed when not given."""
        if isinstance(records, TrainingHistory):
            return records
        rows = [dict(r) for r in records]
        if step is None:
            step = next((k for k in ("epoch", "iteration", "step") if rows and k in rows[0]), "epoch")
        return cls(step, rows)

    def log(self, step: int, **values: Any) -> dict[str, Any]:
        """Append the record ``{self.step: step, **values}`` and return it."""
        record = {self.step: int(step), **values}
        self.records.append(record)
        return record

    @property
    def names(self) -> tuple[str, ...]:
        """The logged names (not the step counter), in the order first seen."""
        seen: dict[str, None] = {}
        for record in self.records:
            seen.update(dict.fromkeys(k for k in record if k != self.step))
        return tuple(seen)

    def steps(self, name: str | None = None) -> list[int]:
        """Step numbers of every record, or of the records that have ``name``."""
        return [r[self.step] for r in self.records if name is None or name in r]

    def last(self, name: str) -> Any:
        """The latest value of ``name``; KeyError listing the logged names when it was never logged."""
        values = self[name]
        if not values:
            raise KeyError(f"{name!r} was never logged; logged names: {', '.join(self.names) or 'none'}")
        return values[-1]

    @overload
    def __getitem__(self, key: str) -> list[Any]: ...
    @overload
    def __getitem__(self, key: int) -> dict[str, Any]: ...

    def __getitem__(self, key):
        """``history["val_loss"]``: the values of one name; ``history[-1]``: one record."""
        if isinstance(key, str):
            return [r[key] for r in self.records if key in r]
        return self.records[key]

    def __contains__(self, name: object) -> bool:
        return name == self.step or name in self.names

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def to_records(self) -> list[dict[str, Any]]:
        """The records as plain dicts (JSON form, e.g. for a recipe card)."""
        return [dict(r) for r in self.records]

    def to_frame(self):
        """A pandas DataFrame, one row per record (NaN where a record lacks a name)."""
        import pandas as pd

        return pd.DataFrame(self.records, columns=[self.step, *self.names])


class TrainResult(NamedTuple):
    """What every training function returns: the trained model and how its training went.

    Returned by ``jets.training.train_tagger``, ``jets.finetune.fine_tune``, ``calo.gan.train_wgan_gp``,
    ``calo.flow.train_flow``, ``calo.flowmatching.train_flow_matching`` and ``fpga.training.train_tagger``;
    read its fields by name (``result.model``, ``result.history``).

    Attributes
    ----------
    model
        The trained model (in eval mode).
    history
        Losses and metrics per epoch or iteration.
    seconds
        Wall time of the training [s] (each function says what it counts).
    best_epoch
        The epoch whose weights the model holds, when the loop keeps the best one (jets' early stopping,
        the flow's best validation loss): a 0-based index into ``history``, -1 when the starting weights
        were kept; None when the loop keeps its last weights.
    per_second
        Training examples (jets, showers) seen per second, where the loop counts them.
    """

    model: Any
    history: TrainingHistory
    seconds: float = 0.0
    best_epoch: int | None = None
    per_second: float | None = None
