"""Figure quality for papers: labelled axes with units, colorbars, visible series, stamps.

:func:`figure_problems` inspects a matplotlib :class:`~matplotlib.figure.Figure` (the
objects, not the pixels) and lists what a reviewer would flag:

* an axes without an x or y label (a shared axis whose tick labels are hidden, a twin's
  hidden axis and a figure-level ``supxlabel``/``supylabel`` count as labelled);
* a label naming a quantity that has a unit (SNR, PSNR, power, time/latency, rate,
  bandwidth, distance, energy, budget) with no unit in brackets or parentheses, e.g.
  ``"SNR (dB)"``, ``"latency [ms]"``, ``"E[rate] (kbit)"`` (a budget named by its own
  unit, ``"symbol budget"``, is complete);
* a colour encoding (``scatter(c=...)``, ``imshow``, ``pcolormesh``, a colour-mapped
  ``contour``/``contourf``) without a colorbar (a colorbar of another mappable that shares
  its norm counts); contour lines drawn in one fixed colour need ``clabel`` labels;
* two or more labelled series in an axes that no legend names (its own, a figure legend
  or another panel's legend listing the same labels);
* two lines with the same data drawn with the same line style and marker (the later one
  hides the earlier);
* with ``illustrative=True``: no "illustrative" stamp (see :func:`stamp_illustrative`).

Only matplotlib is needed (the ``plot`` extra); nothing here imports pyplot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "ILLUSTRATIVE_GID",
    "FigureCheckError",
    "check_figure",
    "figure_problems",
    "has_unit",
    "is_stamped_illustrative",
    "label_problem",
    "stamp_illustrative",
]

ILLUSTRATIVE_GID = "semopt-illustrative-stamp"

# Quantities that carry a physical unit -> the units a label may give in brackets.
_UNIT_QUANTITIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("SNR", re.compile(r"\b(p?snr|signal[- ]to[- ]noise)\b|γ̄", re.IGNORECASE)),
    ("power", re.compile(r"\b(power|p_t)\b", re.IGNORECASE)),
    ("budget", re.compile(r"\bbudget\b", re.IGNORECASE)),
    ("time", re.compile(r"\b(time|latency|delay|duration|deadline|t_max|run ?time|wall)\b",
                        re.IGNORECASE)),
    ("rate", re.compile(r"(?<!error )(?<!code )(?<!success )(?<!outage )(?<!hit )"
                        r"(?<!acceptance )(?<!miss )\b(rate|throughput|bit ?rate)\b",
                        re.IGNORECASE)),
    ("bandwidth", re.compile(r"\bbandwidth\b", re.IGNORECASE)),
    ("distance", re.compile(r"\bdistance\b", re.IGNORECASE)),
    ("energy", re.compile(r"\benergy\b", re.IGNORECASE)),
)

_UNIT_TOKENS = frozenset("""
db dbm dbw w mw uw µw kw nw s ms us µs ns min h hz khz mhz ghz bit bits kbit mbit gbit
bit/s kbit/s mbit/s bps kbps mbps bit/s/hz bpp byte bytes b kb mb gb j mj uj µj nj m km cm
% symbols symbol px pixels linear × x ratio /s 1/s calls/s
""".split())

_BRACKETS = re.compile(r"[(\[]([^()\[\]]+)[)\]]")


class FigureCheckError(ValueError):
    """A figure fails :func:`check_figure`; ``problems`` lists every finding."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("figure check: " + "; ".join(self.problems))


def has_unit(label: str) -> bool:
    """True when a bracketed or parenthesised group of ``label`` names a unit.

    ``"SNR (dB)"``, ``"latency [ms]"``, ``"E[rate] (kbit)"`` have one; ``"E[GVIF]"`` has
    none (GVIF is not a unit).
    """
    for group in _BRACKETS.findall(label):
        tokens = re.split(r"[\s,;·*^]+", group.strip().lower())
        if any(tok.strip(".") in _UNIT_TOKENS for tok in tokens):
            return True
    return False


def label_problem(label: str) -> str | None:
    """Why ``label`` is not a complete axis label, or ``None`` when it is.

    Empty labels are incomplete; a label naming a quantity with a unit (SNR, power, time,
    rate, bandwidth, distance, energy) must give the unit in brackets or parentheses.
    """
    text = label.strip()
    if not text:
        return "no label"
    if has_unit(text):
        return None
    words = {w.lower() for w in re.findall(r"[\w/%µ]+", text)}
    for quantity, pattern in _UNIT_QUANTITIES:
        if quantity == "budget" and words & {"symbol", "symbols", "bits", "seconds"}:
            continue  # "symbol budget": the count names its own unit
        if pattern.search(text):
            return f"{text!r} names a {quantity} but gives no unit in brackets or parentheses"
    return None


def stamp_illustrative(fig: Any, text: str = "illustrative", *, detail: str | None = None) -> Any:
    """Write a large, visible "illustrative" stamp across ``fig`` and return the Text.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to stamp (a figure whose numbers are neither measured nor published).
    text : str
        The stamp; it must contain "illustrative".
    detail : str, optional
        A second line (e.g. which panel or data are illustrative).
    """
    if "illustrative" not in text.lower():
        raise ValueError(f"text: must contain 'illustrative', got {text!r}")
    label = text.upper() if detail is None else f"{text.upper()}\n{detail}"
    return fig.text(0.5, 0.5, label, transform=fig.transFigure, ha="center", va="center",
                    rotation=25, fontsize=28, fontweight="bold", color="tab:red", alpha=0.35,
                    zorder=1000, gid=ILLUSTRATIVE_GID)


def _all_texts(fig: Any) -> Iterable[Any]:
    yield from fig.texts
    for ax in fig.axes:
        yield from ax.texts
        title = ax.title
        yield title
    sup = getattr(fig, "_suptitle", None)
    if sup is not None:
        yield sup


def is_stamped_illustrative(fig: Any) -> bool:
    """True when ``fig`` shows a visible text containing "illustrative" (any case)."""
    return any(t.get_visible() and "illustrative" in t.get_text().lower() for t in _all_texts(fig))


def _colorbar_axes(fig: Any) -> set[int]:
    return {id(ax) for ax in fig.axes if getattr(ax, "_colorbar", None) is not None}


def _has_data(ax: Any) -> bool:
    return bool(ax.lines or ax.collections or ax.images or ax.patches)


def _axis_label_ok(fig: Any, ax: Any, which: str) -> str | None:
    axis = getattr(ax, f"{which}axis")
    if not axis.get_visible():
        return None
    label = axis.get_label_text()
    if not label.strip():
        sup = getattr(fig, f"_sup{which}label", None)
        if sup is not None and sup.get_text().strip():
            label = sup.get_text()
        else:
            shared = getattr(ax, f"get_shared_{which}_axes")().get_siblings(ax)
            ticks_hidden = not any(t.get_visible() for t in axis.get_ticklabels())
            if ticks_hidden and any(getattr(s, f"{which}axis").get_label_text().strip()
                                    for s in shared if s is not ax):
                return None
    problem = label_problem(label)
    return None if problem is None else f"{which}: {problem}"


def _mappables(ax: Any) -> list[Any]:
    from matplotlib.cm import ScalarMappable

    return [a for a in [*ax.images, *ax.collections]
            if isinstance(a, ScalarMappable) and a.get_array() is not None]


def _colour_problem(fig: Any, ax: Any, mappable: Any, colorbar_norms: list[Any]) -> str | None:
    from matplotlib.contour import ContourSet

    kind = type(mappable).__name__
    if isinstance(mappable, ContourSet):
        labelled = bool(getattr(mappable, "labelTexts", None))
        if mappable.colors is not None and not mappable.filled:  # fixed-colour iso-lines
            return None if labelled else f"{kind}: iso-lines in a fixed colour without clabel labels"
        if labelled and not mappable.filled:
            return None
    if getattr(mappable, "colorbar", None) is not None:
        return None
    if any(norm is mappable.norm for norm in colorbar_norms):
        return None
    return f"{kind}: a colour encoding without a colorbar"


def _line_key(line: Any) -> tuple[Any, ...] | None:
    x = np.asarray(line.get_xdata(), dtype=float)
    y = np.asarray(line.get_ydata(), dtype=float)
    if x.size < 2 or not line.get_visible():
        return None
    return (x, y, line.get_linestyle(), str(line.get_marker()))


def _overlap_problems(ax: Any) -> list[str]:
    out = []
    keys = [(line, _line_key(line)) for line in ax.lines]
    keys = [(line, k) for line, k in keys if k is not None]
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            (l1, (x1, y1, ls1, m1)), (l2, (x2, y2, ls2, m2)) = keys[i], keys[j]
            if (x1.shape == x2.shape and y1.shape == y2.shape and ls1 == ls2 and m1 == m2
                    and np.allclose(x1, x2, equal_nan=True) and np.allclose(y1, y2, equal_nan=True)):
                out.append(f"lines {l1.get_label()!r} and {l2.get_label()!r} coincide with the same "
                           f"line style and marker (the later hides the earlier)")
    return out


def _legend_texts(fig: Any) -> set[str]:
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    return {t.get_text() for leg in legends if leg is not None for t in leg.get_texts()}


def _legend_problem(fig: Any, ax: Any, legend_texts: set[str]) -> str | None:
    artists = [*ax.lines, *ax.collections, *ax.containers]
    labels = {str(a.get_label()) for a in artists
              if a.get_label() and not str(a.get_label()).startswith("_")}
    if len(labels) < 2 or ax.get_legend() is not None or labels <= legend_texts:
        return None  # its own legend, or a figure / other-panel legend naming every series
    return f"{len(labels)} labelled series and no legend names them"


def figure_problems(fig: Any, *, illustrative: bool = False) -> list[str]:
    """Every quality problem of ``fig`` (empty list: the figure passes).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, inspected through its artists (nothing is drawn).
    illustrative : bool
        The figure shows numbers that are neither measured nor published: it must carry an
        "illustrative" stamp (:func:`stamp_illustrative`).

    Returns
    -------
    list of str
        One line per problem, prefixed with the axes (``"axes 1 'title'"``).
    """
    problems: list[str] = []
    cbar_axes = _colorbar_axes(fig)
    cbar_norms = [ax._colorbar.mappable.norm for ax in fig.axes if id(ax) in cbar_axes]
    legend_texts = _legend_texts(fig)
    for k, ax in enumerate(fig.axes):
        if id(ax) in cbar_axes or not ax.get_visible() or not ax.axison or not _has_data(ax):
            continue
        where = f"axes {k}" + (f" {ax.get_title()!r}" if ax.get_title() else "")
        for which in ("x", "y") + (("z",) if hasattr(ax, "zaxis") else ()):
            p = _axis_label_ok(fig, ax, which)
            if p:
                problems.append(f"{where}: {p}")
        for m in _mappables(ax):
            p = _colour_problem(fig, ax, m, cbar_norms)
            if p:
                problems.append(f"{where}: {p}")
        p = _legend_problem(fig, ax, legend_texts)
        if p:
            problems.append(f"{where}: {p}")
        problems += [f"{where}: {p}" for p in _overlap_problems(ax)]
    if illustrative and not is_stamped_illustrative(fig):
        problems.append("figure: illustrative data without an 'illustrative' stamp")
    return problems


def check_figure(fig: Any, *, illustrative: bool = False) -> None:
    """Raise :class:`FigureCheckError` listing every problem of :func:`figure_problems`."""
    problems = figure_problems(fig, illustrative=illustrative)
    if problems:
        raise FigureCheckError(problems)
