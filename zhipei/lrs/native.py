"""The LRS's ingest hot path in C (zhipei/lrs/_ingest.c, docs/decisions/0012-native-ingest.md),
or None where it was not built (installed without a C compiler): then the Python each of its
functions stands in for runs, slower, with the same results."""

from __future__ import annotations

try:
    import zhipei.lrs._ingest as ingest
except ImportError:
    ingest = None  # type: ignore[assignment]

__all__ = ["ingest"]
