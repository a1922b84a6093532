"""Benchmarks: each measures the bot against a baseline in the same run and prints ratios, because a
figure from a shared 2-core machine means little alone (see docs/performance.md)."""
