"""Benchmarks a user or CI reruns, each run from the repository root as ``python -m bench.NAME``
(results in bench/RESULTS.md)."""
