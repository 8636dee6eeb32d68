"""Readable text views of tables (``semopt tables show``): labelled, rounded, aligned.

:func:`describe` renders a table as text: its header, what its columns are (with units
and whether higher or lower is better), the data itself as aligned tables and the
provenance as indented ``key: value`` lines. Small tables are shown whole; for large
ones a 1-D list shows its first rows and a 2-D grid shows evenly spaced rows and
columns including both ends, each with a line saying what was left out (``full=True``
shows everything).

Numbers are rounded for reading: magnitudes in [0.001, 10^6) in fixed notation with up
to 4 decimals and about 5 significant digits (``22.74``, ``0.4349``, ``288.08``,
``10637``), other magnitudes with 3 significant digits; the floats of a table column
share one number of decimals; missing values are ``—``.
Error rates are shown with 3 significant digits (``1e-08``, ``0.5``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from semopt.tables.base import Table

__all__ = ["describe", "format_mapping", "format_number", "format_rows"]

MISSING = "—"
_TEXT_CELL_CHARS = 48


def format_number(value: Any, digits: int = 4) -> str:
    """A number rounded for reading (see the module docstring); ``None``/NaN → ``—``."""
    if value is None:
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return MISSING
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e6:
        int_digits = max(math.floor(math.log10(abs(v))) + 1, 0)
        decimals = min(digits, max(0, digits + 1 - int_digits))
        text = f"{v:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("", "-0") else text
    return f"{v:.3g}"


def format_rate(value: float) -> str:
    """An error rate with 3 significant digits."""
    return MISSING if not math.isfinite(value) else f"{value:.3g}"


def _cell(value: Any) -> str:
    if isinstance(value, str):
        text = " ".join(value.split())
        return text if len(text) <= _TEXT_CELL_CHARS else text[:_TEXT_CELL_CHARS - 1] + "…"
    return format_number(value)


def _fixed(value: Any) -> bool:
    """A float shown in fixed notation by :func:`format_number`."""
    if isinstance(value, (bool, np.bool_, int, np.integer, str)) or value is None:
        return False
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(v) and (v == 0 or 1e-3 <= abs(v) < 1e6)


def _column_cells(values: Sequence[Any]) -> list[str]:
    """Cells of one column; fixed-notation floats share one number of decimals.

    The shared number is the largest any value of the column needs, but no more than
    the column's largest magnitude allows (so bits per image stay integers).
    """
    cells = [_cell(v) for v in values]
    fixed = [k for k, v in enumerate(values) if _fixed(v)]
    if not fixed:
        return cells
    biggest = max(abs(float(values[k])) for k in fixed)
    cap = 4 if biggest < 1 else max(0, 5 - (math.floor(math.log10(biggest)) + 1))
    decimals = min(cap, max(len(cells[k].partition(".")[2]) for k in fixed))
    for k in fixed:
        cells[k] = f"{float(values[k]):.{decimals}f}"
    return cells


def format_rows(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: int = 2) -> str:
    """An aligned text table: text columns left-aligned, numeric columns right-aligned.

    The floats of a column are rounded as by :func:`format_number` and shown with a
    common number of decimals (``0.90`` beside ``0.91``).
    """
    columns = [_column_cells([row[k] for row in rows]) for k in range(len(headers))]
    cells = [[columns[k][i] for k in range(len(headers))] for i in range(len(rows))]
    numeric = [all(not isinstance(row[k], str) or row[k] in ("", MISSING) for row in rows)
               if rows else False for k in range(len(headers))]
    widths = [max([len(h)] + [len(r[k]) for r in cells]) for k, h in enumerate(headers)]
    pad = " " * indent

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return (pad + "  ".join(parts)).rstrip()

    return "\n".join([line(list(headers)), line(["-" * w for w in widths])]
                     + [line(r) for r in cells])


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return format_number(value)


def format_mapping(mapping: Mapping[str, Any], indent: int = 2, max_items: int = 8) -> str:
    """Nested mappings as indented ``key: value`` lines.

    Lists of scalars are shown on one line (the first ``4 * max_items`` entries); lists of
    mappings as ``- `` items (the first ``max_items``), each cut short with a count.
    """
    lines: list[str] = []
    _mapping_lines(mapping, indent, max_items, lines)
    return "\n".join(lines)


def _mapping_lines(mapping: Mapping[str, Any], indent: int, max_items: int,
                   lines: list[str]) -> None:
    pad = " " * indent
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            if not value:
                lines.append(f"{pad}{key}: {{}}")
                continue
            lines.append(f"{pad}{key}:")
            _mapping_lines(value, indent + 2, max_items, lines)
        elif isinstance(value, (list, tuple)):
            if all(not isinstance(v, (Mapping, list, tuple)) for v in value):
                shown = [_scalar_text(v) for v in value[:4 * max_items]]
                more = f", … ({len(value) - len(shown)} more)" if len(value) > len(shown) else ""
                lines.append(f"{pad}{key}: [{', '.join(shown)}{more}]")
                continue
            lines.append(f"{pad}{key}: ({len(value)} items)")
            for item in value[:max_items]:
                if isinstance(item, Mapping):
                    sub: list[str] = []
                    _mapping_lines(item, indent + 4, max_items, sub)
                    if sub:
                        sub[0] = f"{pad}  - " + sub[0].lstrip()
                    lines.extend(sub)
                else:
                    text = _scalar_text(item) if not isinstance(item, (list, tuple)) else str(item)
                    lines.append(f"{pad}  - {text}")
            if len(value) > max_items:
                lines.append(f"{pad}  … {len(value) - max_items} more (--json for all)")
        else:
            lines.append(f"{pad}{key}: {_scalar_text(value)}")


def _pick(n: int, limit: int, full: bool) -> np.ndarray:
    """Indices shown of ``n`` entries: all, or ``limit`` evenly spaced including both ends."""
    if full or n <= limit:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, limit)).astype(int))


def _head_note(n: int, shown: int, what: str) -> str:
    return f"  … {n - shown} more {what} (--all for everything, --json for the raw data)"


def _grid_note(rows: np.ndarray, n_rows: int, cols: np.ndarray, n_cols: int) -> str | None:
    if rows.size == n_rows and cols.size == n_cols:
        return None
    return (f"  showing {rows.size} of {n_rows} rows × {cols.size} of {n_cols} columns, evenly "
            "spaced with both ends (--all for everything, --json for the raw data)")


# --------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------
def _perception(table: Any, limit: int, full: bool) -> list[str]:
    out = [f"metric: {table.metric} (a distance: lower is better)"]
    sources = getattr(table, "sources", {s: table.provenance.get("source") for s in table.schemes})
    out.append("schemes: " + ", ".join(f"{s} ({sources.get(s)})" for s in table.schemes))
    for scheme in table.schemes:
        out.append(f"{scheme}: best P = {format_number(table.best(scheme))}, worst P = "
                   f"{format_number(table.worst(scheme))}")
    out += ["", "Streams (payload K_i in bits, code rate K_i/N_i)"]
    out.append(format_rows(["#", "stream", "bits", "code rate", "description"],
                           [[i, s.name, s.bits, s.code_rate, s.description]
                            for i, s in enumerate(table.streams)]))
    names = [s.name for s in table.streams]
    if table.discard is not None:
        d = table.discard
        n = d.values.size
        masks = np.arange(n) if full or n <= 4 * limit else np.arange(4 * limit)
        rows = []
        for m in masks:
            received = [names[i] for i in range(table.n_streams) if m >> i & 1]
            row: list[Any] = [" + ".join(received) or "(none)", d.values[m]]
            if d.stderr is not None:
                row.append(d.stderr[m])
            rows.append(row)
        headers = ["received streams", "P_S"] + (["stderr"] if d.stderr is not None else [])
        out += ["", f"Discard scheme: P_S for each set S of received streams ({n} subsets); "
                    "P_discard(Ψ) = Σ_S Π_(i∈S)(1−Ψ_i) Π_(i∉S) Ψ_i · P_S"]
        out.append(format_rows(headers, rows))
        if masks.size < n:
            out.append(_head_note(n, masks.size, "subsets"))
    if table.forward is not None:
        f = table.forward
        sizes = " × ".join(str(a.size) for a in f.axes)
        out += ["", f"Forward scheme: P(ψ) on a {sizes} grid of bit error rates ψ "
                    f"(interpolated in log10 ψ; constant below the first node)"]
        if f.n_streams == 2:
            rows_i = _pick(f.axes[0].size, limit, full)
            cols_i = _pick(f.axes[1].size, limit, full)
            corner = f"ψ {names[0]} \\ ψ {names[1]}"
            headers = [corner] + [format_rate(10 ** f.axes[1][j]) for j in cols_i]
            body = [[format_rate(10 ** f.axes[0][i])] + [f.values[i, j] for j in cols_i]
                    for i in rows_i]
            out.append(format_rows(headers, body))
            note = _grid_note(rows_i, f.axes[0].size, cols_i, f.axes[1].size)
            if note:
                out.append(note)
        else:
            cells = np.stack(np.meshgrid(*[np.arange(a.size) for a in f.axes], indexing="ij"),
                             -1).reshape(-1, f.n_streams)
            shown = cells if full else cells[:4 * limit]
            body = [[format_rate(10 ** f.axes[k][c[k]]) for k in range(f.n_streams)]
                    + [f.values[tuple(c)]] for c in shown]
            out.append(format_rows([f"ψ {n}" for n in names] + ["P"], body))
            if len(shown) < len(cells):
                out.append(_head_note(len(cells), len(shown), "grid cells"))
        if f.single_stream is not None:
            out += ["", "Single-stream curves P^(i)(ψ_i): the perception when only stream i is sent"]
            for k, curve in enumerate(f.single_stream):
                idx = _pick(curve.size, limit, full)
                out.append(format_rows([f"ψ {names[k]}", f"P^({names[k]})"],
                                       [[format_rate(10 ** f.axes[k][j]), curve[j]] for j in idx]))
                if idx.size < curve.size:
                    out.append(f"  showing {idx.size} of {curve.size} nodes, evenly spaced with "
                               "both ends (--all for everything)")
    return out


def _quality_curve(table: Any, limit: int, full: bool) -> list[str]:
    out = [f"stream: {table.stream}", "metrics: " + ", ".join(
        f"{m} (higher is better)" for m in table.metric_names), "",
        f"Metrics Φ_j(BER) of the {table.stream} ({table.ber.size} BER points; interpolated in "
        "log10 BER, constant below the first point)"]
    idx = _pick(table.ber.size, 4 * limit, full)
    headers = ["BER"] + [f"{m} ↑" for m in table.metric_names]
    for m in table.metric_names:
        if m in table.stderr:
            headers.append(f"{m} stderr")
    body = []
    for i in idx:
        row: list[Any] = [format_rate(table.ber[i])] + [table.metrics[m][i] for m in table.metric_names]
        row += [table.stderr[m][i] for m in table.metric_names if m in table.stderr]
        body.append(row)
    out.append(format_rows(headers, body))
    if idx.size < table.ber.size:
        out.append(_head_note(table.ber.size, idx.size, "BER points"))
    return out


def _metric_label(name: str, spec: Any) -> str:
    unit = f" ({spec.unit})" if spec.unit else ""
    return f"{name.upper() if name in ('psnr', 'ssim', 'clip', 'fid', 'lpips') else name}" \
           f"{unit} {'↑' if spec.higher_is_better else '↓'}"


def _operating_points(table: Any, limit: int, full: bool) -> list[str]:
    out = ["metrics: " + ", ".join(
        f"{k}{f' [{v.unit}]' if v.unit else ''} ({v.direction} is better)"
        for k, v in table.metrics.items())]
    out.append(f"channels: {', '.join(table.channels)}")
    if table.costs:
        out.append("costs: " + "; ".join(f"{k} ({v})" if v else k for k, v in table.costs.items()))
    if table.diffusion:
        out.append("diffusion: " + ", ".join(f"{k} {v}" for k, v in table.diffusion.items()))
    out += ["", f"Operating points ({len(table.points)})"]
    costs = list(table.costs)
    rows = []
    points = table.points if full else table.points[:4 * limit]
    for i, p in enumerate(points):
        rows.append([i, p.name, p.dataset, p.compression_rate, p.channels_c]
                    + [p.cost.get(c, math.nan) for c in costs])
    out.append(format_rows(["#", "point", "dataset", "compression rate", "C"] + costs, rows))
    if len(points) < len(table.points):
        out.append(_head_note(len(table.points), len(points), "points"))
    for p in points:
        out += ["", f"Point {p.name!r}: dataset {p.dataset or MISSING}"
                    + (f", source {p.source}" if p.source else "")]
        if p.model:
            out.append(f"  model: {p.model}")
        if p.notes:
            out.append(f"  notes: {p.notes}")
        idx = _pick(p.snr_db.size, 4 * limit, full)
        for channel, series in p.quality.items():
            metrics = [m for m in table.metrics if m in series]
            out.append(f"  channel {channel}:")
            body = [[p.snr_db[i]] + [series[m][i] for m in metrics] for i in idx]
            out.append(format_rows(["SNR (dB)"] + [_metric_label(m, table.metrics[m])
                                                   for m in metrics], body, indent=4))
            if idx.size < p.snr_db.size:
                out.append("  " + _head_note(p.snr_db.size, idx.size, "SNR points"))
    return out


def _gvif(table: Any, limit: int, full: bool) -> list[str]:
    out = [f"reference model: {table.reference_model} (least distortion; GVIF is relative to it)",
           f"γ² = {format_number(table.gamma2)}, α_th = {format_number(table.alpha_max)}, "
           f"importance: {table.importance_method or MISSING}, images: {len(table.images)}, "
           f"latent shape: {table.latent_shape or MISSING}", "",
           f"Models ({len(table.models)}): D(Φ) = mean per-image MSE on the 0…255 scale"]
    out.append(format_rows(["model", "D (MSE)", "PSNR (dB)", "bpp", "λ"],
                           [[m.name, m.distortion_mse, m.psnr_db, m.bpp, m.lambda_]
                            for m in table.models]))
    cols = _pick(table.alpha_grid.size, limit, full)
    for key, values in table.curves.items():
        unit = table.curve_units.get(key, "")
        label = {"gvif": "E[GVIF](α)", "rate_bits": "E[rate](α)"}.get(key, key)
        out += ["", f"{label}{f' ({unit})' if unit else ''}: per model, on the α grid "
                    f"({table.alpha_grid.size} points in [{format_number(table.alpha_grid[0])}, "
                    f"{format_number(table.alpha_grid[-1])}])"]
        headers = ["model \\ α"] + [format_number(table.alpha_grid[j]) for j in cols]
        out.append(format_rows(headers, [[m.name] + [values[k, j] for j in cols]
                                         for k, m in enumerate(table.models)]))
        if cols.size < table.alpha_grid.size:
            out.append(f"  showing {cols.size} of {table.alpha_grid.size} α values, evenly spaced "
                       "with both ends (--all for everything)")
    if table.per_image:
        out += ["", "Per-image arrays (NPZ)"]
        out.append(format_rows(["array", "shape", "dtype"],
                               [[k, " × ".join(map(str, v.shape)), str(v.dtype)]
                                for k, v in table.per_image.items()]))
    return out


_KIND_VIEWS: dict[str, Callable[[Any, int, bool], list[str]]] = {
    "perception": _perception,
    "quality-curve": _quality_curve,
    "operating-points": _operating_points,
    "gvif": _gvif,
}


def describe(table: Table, *, full: bool = False, limit: int = 10,
             verified: bool | None = None) -> str:
    """A readable multi-line text view of ``table`` (see the module docstring).

    Parameters
    ----------
    table : Table
    full : bool
        Show every row and column.
    limit : int
        Rows (and about as many columns) shown of a large 2-D grid; 1-D lists show
        ``4 * limit`` rows.
    verified : bool, optional
        Say in the header line whether the content hash was verified.
    """
    state = {True: ", content hash verified", False: ", content hash NOT verified",
             None: ""}[verified]
    source = getattr(table, "source_label", None) or table.provenance.get("source")
    lines = [f"{table.name}: valid {table.kind!r} table ({source}{state})"]
    if table.description:
        lines.append(f"description: {table.description}")
    view = _KIND_VIEWS.get(table.kind)
    if view is not None:
        lines += view(table, limit, full)
    else:
        summary = {k: v for k, v in table.summary().items()
                   if k not in ("name", "kind", "description", "provenance")}
        lines.append(format_mapping(_jsonable(summary), indent=0))
    if table.provenance:
        lines += ["", "Provenance", format_mapping(_jsonable(table.provenance),
                                                    max_items=1000 if full else 8)]
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
