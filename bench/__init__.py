"""Scale data generator and benchmarks that print their figures (see bench/README.md)."""
