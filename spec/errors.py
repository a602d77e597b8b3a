"""Errors of the spec: a malformed trace or a step that cannot be applied at all.

A step the kernel would refuse is not an error (its Result says `refused` or names the
errno/signal); these are for input that makes no sense: an unknown op, a missing or
ill-typed argument, an unknown pin id, an operation by an exited or unknown process,
a reused process id.
"""
from __future__ import annotations


class StepError(ValueError):
    """Raised by the kernel model for a step that cannot be applied at all."""


class TraceError(ValueError):
    """A malformed trace; names the step (index) when there is one."""

    def __init__(self, message: str, step: int | None = None):
        self.step = step
        self.message = message
        super().__init__(f"step {step}: {message}" if step is not None else message)
