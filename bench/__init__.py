"""Benchmarks: ``python -m bench`` (``make bench``). Every figure beside a bare baseline measured
in the same run; the table is printed and written to BENCHMARKS.md. Never part of the tests."""
