"""Figures for a paper: the checker itself, every shipped table's plot, the cheap benchmarks' PNGs."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from semopt import tables  # noqa: E402
from semopt.plotting import (  # noqa: E402
    FigureCheckError,
    check_figure,
    figure_problems,
    has_unit,
    is_stamped_illustrative,
    label_problem,
    stamp_illustrative,
)


@pytest.fixture
def captured(monkeypatch):
    """Every Figure that is saved while the test runs (the file is still written)."""
    figures: list[Figure] = []
    original = Figure.savefig

    def savefig(self, *args, **kwargs):
        figures.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    yield figures
    plt.close("all")


def _good_figure() -> Figure:
    fig, ax = plt.subplots()
    x = np.linspace(0, 10, 5)
    ax.plot(x, x, "o-", label="a")
    ax.plot(x, x, "s--", label="b")  # same data, other marker and style: visible
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel("total power [mW]")
    ax.legend()
    return fig


# --------------------------------------------------------------------------- the checker


@pytest.mark.parametrize(("label", "unit"), [
    ("SNR (dB)", True), ("latency [ms]", True), ("E[rate] (kbit)", True), ("E[GVIF]", False),
    ("rate (bit/s)", True), ("speed-up (×)", True), ("BER of the edge map", False),
])
def test_has_unit(label, unit):
    assert has_unit(label) is unit


@pytest.mark.parametrize(("label", "ok"), [
    ("SNR (dB)", True), ("SNR", False), ("average SNR γ̄", False), ("PSNR", False),
    ("PSNR of D(Φ) (dB)", True), ("total power", False), ("bit error rate", True),
    ("E[GVIF]", True), ("filtering threshold α", True), ("time per SNR (µs)", True),
    ("latency", False), ("", False), ("1 - MS-SSIM", True), ("diffusion timestep", True),
    ("symbol budget", True), ("budget", False), ("budget (symbols)", True),
])
def test_label_problem(label, ok):
    assert (label_problem(label) is None) is ok


def test_a_complete_figure_passes():
    assert figure_problems(_good_figure()) == []
    check_figure(_good_figure())


def test_missing_labels_and_units_are_found():
    fig, (a, b) = plt.subplots(1, 2)
    a.plot([0, 1], [0, 1])
    b.plot([0, 1], [0, 1])
    b.set_xlabel("SNR")
    b.set_ylabel("psnr")
    problems = figure_problems(fig)
    assert len(problems) == 4, problems
    assert any("axes 0: x: no label" in p for p in problems)
    assert any("names a SNR" in p for p in problems)
    with pytest.raises(FigureCheckError) as info:
        check_figure(fig)
    assert len(info.value.problems) == 4


def test_shared_x_axis_with_hidden_tick_labels_counts_as_labelled():
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True)
    for ax in (top, bottom):
        ax.plot([0, 1], [0, 1])
        ax.set_ylabel("1 - CLIP")
    bottom.set_xlabel("SNR (dB)")
    top.label_outer()
    fig.canvas.draw()
    assert figure_problems(fig) == []


@pytest.mark.parametrize("kind", ["scatter", "imshow", "pcolormesh", "contourf", "contour"])
def test_colour_encodings_need_a_colorbar(kind):
    fig, ax = plt.subplots()
    z = np.arange(16.0).reshape(4, 4)
    mappable = {
        "scatter": lambda: ax.scatter([0, 1, 2], [0, 1, 2], c=[0.1, 0.5, 0.9]),
        "imshow": lambda: ax.imshow(z),
        "pcolormesh": lambda: ax.pcolormesh(z),
        "contourf": lambda: ax.contourf(z),
        "contour": lambda: ax.contour(z),
    }[kind]()
    ax.set_xlabel("BER of stream 1")
    ax.set_ylabel("BER of stream 2")
    assert any("without a colorbar" in p for p in figure_problems(fig)), kind
    fig.colorbar(mappable, ax=ax, label="1 - CLIP")
    assert figure_problems(fig) == [], kind


def test_a_shared_norm_colorbar_covers_both_panels():
    fig, axes = plt.subplots(1, 2)
    norm = matplotlib.colors.Normalize(0, 1)
    meshes = [ax.pcolormesh(np.random.default_rng(0).random((3, 3)), norm=norm) for ax in axes]
    for ax in axes:
        ax.set_xlabel("BER of the prompt")
        ax.set_ylabel("BER of the edge map")
    fig.colorbar(meshes[0], ax=list(axes))
    assert figure_problems(fig) == []


def test_fixed_colour_iso_lines_need_labels():
    fig, ax = plt.subplots()
    z = np.arange(16.0).reshape(4, 4)
    mesh = ax.pcolormesh(z)
    fig.colorbar(mesh, ax=ax)
    cs = ax.contour(z, colors="w")
    ax.set_xlabel("BER of the prompt")
    ax.set_ylabel("BER of the edge map")
    assert any("iso-lines" in p for p in figure_problems(fig))
    ax.clabel(cs)
    assert figure_problems(fig) == []


def test_a_plain_scatter_is_not_a_colour_encoding():
    fig, ax = plt.subplots()
    ax.scatter([0, 1], [1, 2], color="k")
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel("objective")
    assert figure_problems(fig) == []


def test_hidden_and_unlabelled_series_are_found():
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1, 2, 3], "-", label="bisection")
    ax.plot([0, 1, 2], [1, 2, 3], "-", label="global-search")  # hides "bisection"
    ax.set_xlabel("target P̄")
    ax.set_ylabel("total power (mW)")
    problems = figure_problems(fig)
    assert any("coincide" in p for p in problems) and any("no legend" in p for p in problems)


def test_a_legend_on_another_panel_that_names_the_series_counts():
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        ax.plot([0, 1], [0, 1], "o-", label="lemma1")
        ax.plot([0, 1], [1, 0], "s--", label="unaware")
        ax.set_xlabel("average SNR γ̄ (dB)")
        ax.set_ylabel("latency (ms)")
    axes[0].legend()
    assert figure_problems(fig) == []
    axes[1].plot([0, 1], [0.5, 0.5], label="cvxpy")  # a series no legend names
    assert any("no legend names" in p for p in figure_problems(fig))


def test_illustrative_figures_need_the_stamp():
    fig = _good_figure()
    assert not is_stamped_illustrative(fig)
    assert figure_problems(fig, illustrative=True) == [
        "figure: illustrative data without an 'illustrative' stamp"]
    text = stamp_illustrative(fig, detail="forward surface not measured")
    assert text.get_visible() and "ILLUSTRATIVE" in text.get_text()
    assert is_stamped_illustrative(fig) and figure_problems(fig, illustrative=True) == []
    with pytest.raises(ValueError, match="illustrative"):
        stamp_illustrative(fig, "draft")


# --------------------------------------------------------------------------- shipped tables


def _sources(provenance) -> set[str]:
    found = set()
    if isinstance(provenance, dict):
        for key, value in provenance.items():
            if key == "source" and isinstance(value, str):
                found.add(value)
            found |= _sources(value)
    elif isinstance(provenance, list):
        for value in provenance:
            found |= _sources(value)
    return found


SHIPPED = [row["name"] for row in tables.list_tables()]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_table_plot_passes_the_figure_check(name, tmp_path, captured):
    table = tables.load(name)
    if not hasattr(table, "plot"):
        pytest.skip(f"kind {table.kind!r} has no plot")
    table.plot(str(tmp_path / f"{name}.png"))  # what `semopt tables plot` calls
    assert captured, f"{name}: plot saved no figure"
    illustrative = "illustrative" in _sources(getattr(table, "provenance", {}))
    problems = [p for fig in captured for p in figure_problems(fig, illustrative=illustrative)]
    assert not problems, f"{name}:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- benchmark figures

# Cheap options (seconds each); the benchmarks whose figure shows data that is neither
# measured nor published (the Xu forward surfaces, the synthetic operating-point sweep).
CHEAP_BENCHMARKS = {
    "cell_capacity": ["--drops", "2", "--users", "60", "--budgets", "4", "--mean-users", "12",
                      "--mean-drops", "2", "--mean-budgets", "3", "--max-users", "100",
                      "--max-dual-users", "100", "--max-knapsack-users", "10", "--repeat", "2",
                      "--dask-drops", "0"],
    "gened_split": ["--points", "8", "--targets", "4", "--repeat", "1", "--batch", "200"],
    "gvif_fig7": [],
    "gvif_fig9": ["--snr-min", "0", "--snr-max", "6"],
    "gvif_methods": ["--seeds", "1", "--max-batch", "100"],
    "latency_fig4": ["--step-db", "2"],
    "latency_speed": ["--instances", "2", "--max-batch", "100"],
    "latency_table2": [],
    "minpower_bisection": ["--targets", "6", "--draws", "2"],
    "minpower_cdf": ["--draws", "20"],
    "minpower_fig5": ["--points", "21"],
    "minpower_fig6": ["--draws", "3", "--targets", "4"],
    "minpower_fig7": ["--draws", "3", "--targets", "6"],
    "minpower_fig8": ["--targets", "6"],
    "minpower_speed": ["--max-batch", "1000", "--slsqp", "2", "--grid", "20"],
    "operating_point_selection": ["--batch", "200"],
    "operating_point_timestep": ["--draws", "200", "--mc-features", "2000"],
}
ILLUSTRATIVE_BENCHMARKS = {"minpower_fig5", "minpower_fig6", "minpower_fig8",
                           "minpower_bisection", "operating_point_selection"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CHEAP_BENCHMARKS))
def test_benchmark_figures_pass_the_figure_check(name, tmp_path, captured, monkeypatch, capsys):
    from semopt.cli import main

    monkeypatch.setenv("SEMOPT_PROGRESS", "0")
    code = main(["bench", name, *CHEAP_BENCHMARKS[name], "--out-dir", str(tmp_path)])
    capsys.readouterr()
    assert code == 0
    assert captured and (tmp_path / f"{name}.png").is_file(), f"{name}: no figure written"
    problems = [p for fig in captured
                for p in figure_problems(fig, illustrative=name in ILLUSTRATIVE_BENCHMARKS)]
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_every_benchmark_with_a_figure_is_checked():
    from semopt.cli.bench import benchmark_dir, list_benchmarks

    with_figure = {n for n in list_benchmarks()
                   if "figure=" in (benchmark_dir() / f"{n}.py").read_text(encoding="utf-8")}
    unchecked = with_figure - set(CHEAP_BENCHMARKS) - {"profiling_surface"}  # torch, minutes
    assert not unchecked, f"benchmarks with a figure but no figure check: {sorted(unchecked)}"
