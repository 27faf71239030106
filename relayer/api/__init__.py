"""HTTP surface of a relayer: health, readiness, Prometheus metrics, transfer status."""
