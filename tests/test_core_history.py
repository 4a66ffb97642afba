"""TrainingHistory (hepml_nb.core.history): one history shape for every training loop."""

import pytest

from hepml_nb.core.history import TrainingHistory


def _history() -> TrainingHistory:
    history = TrainingHistory("iteration")
    history.log(50, critic_loss=-0.1, wasserstein=0.2)
    history.log(100, critic_loss=-0.05, wasserstein=0.1)
    history.log(100, sep_etot=0.02)
    return history


def test_training_history_columns_and_records():
    history = _history()
    assert history["wasserstein"] == [0.2, 0.1] and history["sep_etot"] == [0.02]
    assert history[-1] == {"iteration": 100, "sep_etot": 0.02} and len(history) == 3
    assert history.names == ("critic_loss", "wasserstein", "sep_etot")
    assert history.steps() == [50, 100, 100] and history.steps("sep_etot") == [100]
    assert [r["iteration"] for r in history] == [50, 100, 100]
    assert "wasserstein" in history and "iteration" in history and "lr" not in history
    assert history.last("wasserstein") == 0.1


def test_training_history_round_trips_through_records():
    history = _history()
    again = TrainingHistory.from_records(history.to_records())
    assert again == history and again.step == "iteration"
    assert TrainingHistory.from_records(history) is history
    frame = history.to_frame()
    assert list(frame.columns) == ["iteration", "critic_loss", "wasserstein", "sep_etot"] and len(frame) == 3


def test_training_history_last_of_unknown_name_lists_the_names():
    with pytest.raises(KeyError, match="'lr' was never logged; logged names: critic_loss, wasserstein, sep_etot"):
        _history().last("lr")
