"""Loopback servers that speak the teacher APIs' wire formats, for tests and benchmarks."""
