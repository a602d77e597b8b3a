"""Bounded exhaustive exploration: the model, canonical keys, partial-order reduction."""
