"""Benchmarks run by make bench: they print figures, they are not tests."""
