"""The machine's busy CPU time, for the ingest benchmarks (not a test).

On a shared or virtual machine a rate follows whatever else runs; the CPU a run keeps busy
for each row moves much less. Both runs of the batch target (the LRS and the raw COPY) fill
the same cores, so the ratio of their CPU per row is the ratio of the rates they would reach
on the same quiet machine. Linux only (/proc/stat); run on an otherwise idle machine.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot: user, nice, system, irq and softirq
    (guest time is part of user); not idle, I/O wait or time stolen by the hypervisor."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[:7])
    return (user + nice + system + irq + softirq) / _TICK
