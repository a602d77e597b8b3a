"""The operations of the replay table, one module per kernel area.

OPS maps each op name to `fn(kernel, args) -> Result`.
"""
from __future__ import annotations

OPS: dict = {}
