"""customjobs benchmarks: every figure is a median of several runs, every target a ratio
to a baseline measured in the same run (absolute times on shared machines drift).

Run with `python -m bench [--quick] [--only B1,B3]`; see bench/README.md.
"""
