"""Synthetic data with ground truth (retail customers), for the demo, tests and benchmarks."""
