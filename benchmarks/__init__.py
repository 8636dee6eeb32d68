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
}
