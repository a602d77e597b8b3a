"""What an operation returns: Result(status, value), and the statuses the operations share.

Below both spec/kernel.py and spec/ops/: the kernel dispatches to the operations, and the
operations build results, so neither may hold this for the other.

    OK        done (read and dma_read carry `value`: Result("ok", value))
    REFUSED   the kernel declined or found nothing to act on
    SIGSEGV, EFAULT, EINVAL, ENOMEM, EAGAIN   the signal or errno the kernel would give
              (spec/kernel.py lists which operation returns which)
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Result:
    status: str = "ok"
    value: int | None = None


OK = Result()
REFUSED = Result("refused")
SIGSEGV = Result("SIGSEGV")
EFAULT = Result("EFAULT")
EINVAL = Result("EINVAL")
ENOMEM = Result("ENOMEM")
EAGAIN = Result("EAGAIN")
