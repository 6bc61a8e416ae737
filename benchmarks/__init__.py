"""Side-by-side speed benchmarks against the reference libraries (``make bench``).

Every ``benchmarks/bench_*.py`` module has a ``main()`` that prints its ratios; the
measured numbers are written by hand into ``benchmarks/RESULTS.md``.
"""
