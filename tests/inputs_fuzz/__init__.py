"""Malformed inputs for mmreview's own commands: generators, harness, properties."""
