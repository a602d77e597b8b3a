"""hypothesis drives the spec: trace strategies, the search, shrinking, determinism."""
