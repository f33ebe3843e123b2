"""System checks of the LRS (STYLE §12): zhipei.W001, the ingest hot path's C module."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning, register

from zhipei.lrs import native


@register()
def ingest_module_built(**kwargs: Any) -> list[CheckMessage]:
    """The LRS runs without zhipei.lrs._ingest, in Python with the same results, but spends
    more CPU per statement (decision 0012): a deployment should have it."""
    if native.ingest is not None:
        return []
    return [
        Warning(
            "The LRS's C module zhipei.lrs._ingest is not built: statements are checked and "
            "stored by the slower Python path.",
            hint="Install with a C compiler and the Python headers (make install).",
            id="zhipei.W001",
        )
    ]
