"""The benchmark scripts of semopt, shipped with the package so ``semopt bench`` runs them.

Each ``benchmarks/<name>.py`` has a one-line module docstring (shown by
``semopt bench --list``) and ``main(argv) -> dict``; it writes ``<name>.json`` (+ PNG)
through :func:`semopt.benchmarking.write_results`. Nothing here is imported by the
scripts; ``semopt bench`` reads :data:`RUN_TIME_S` statically.
"""

# Wall time (s) of `semopt bench NAME` with default options, measured on the shared 2-core
# development machine (one benchmark at a time, nice 19, 1 BLAS thread, other jobs running:
# an upper bound for an idle machine). Shown by `semopt bench --list`; the JSON of every
# new run records its own `wall_s`.
RUN_TIME_S: dict[str, float] = {
    "cell_capacity": 303.0,
    "gened_split": 28.5,
    "gvif_fig7": 2.5,
    "gvif_fig9": 4.2,
    "gvif_methods": 13.2,
    "latency_fig4": 3.4,
    "latency_speed": 200.0,
    "latency_table2": 3.0,
    "minpower_cdf": 5.0,
    "minpower_fig6": 31.0,
    "minpower_fig5": 6.0,
    "minpower_fig7": 27.0,
    "minpower_fig8": 19.0,
    "minpower_bisection": 68.0,
    "minpower_reference": 68.0,
    "minpower_speed": 120.0,
    "operating_point_selection": 4.5,
    "operating_point_timestep": 10.7,
    "profiling_surface": 131.0,
}
