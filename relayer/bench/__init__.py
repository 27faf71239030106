"""Benchmarks: gas per bridge operation, end-to-end pipeline throughput."""
