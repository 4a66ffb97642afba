import matplotlib.pyplot as plt

from hepml_nb.core.widgets import _initial, explore, is_headless


def test_explore_headless_calls_once_with_initial_values(monkeypatch, capsys):
    monkeypatch.setenv("HEPML_NB_HEADLESS", "1")
    calls = []

    def show(n, name, x):
        calls.append((n, name, x))
        return f"n={n} name={name} x={x}"

    assert is_headless()
    assert explore(show, n=(0, 10), name=["a", "b"], x=(0.0, 1.0)) is None
    assert calls == [(5, "a", 0.5)]
    assert "n=5 name=a x=0.5" in capsys.readouterr().out


def test_explore_headless_closes_returned_figure(monkeypatch):
    monkeypatch.setenv("HEPML_NB_HEADLESS", "1")
    before = len(plt.get_fignums())
    explore(lambda k: plt.subplots()[0], k=(1, 3))
    assert len(plt.get_fignums()) == before


def test_explore_live_returns_interactive_widget(monkeypatch):
    import ipywidgets

    monkeypatch.delenv("HEPML_NB_HEADLESS", raising=False)
    widget = explore(lambda k: None, k=ipywidgets.IntSlider(value=2, min=0, max=4))
    assert isinstance(widget, ipywidgets.interactive) and widget.kwargs == {"k": 2}


def test_initial_of_widget_and_value():
    import ipywidgets

    assert _initial(ipywidgets.FloatSlider(value=0.25)) == 0.25 and _initial(7) == 7
