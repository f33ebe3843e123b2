"""The registry of application kinds (see kinds.base). Each kind module registers itself when
imported; the list at the bottom imports the kinds shipped with Zhipei."""

from __future__ import annotations

from zhipei.core.errors import InvalidInput
from zhipei.subsidies.kinds.base import ApplicationKind

KINDS: dict[str, ApplicationKind] = {}


def register(kind: ApplicationKind) -> ApplicationKind:
    if kind.programme in KINDS:
        raise ValueError(f"Application kind {kind.programme} is registered twice.")
    KINDS[kind.programme] = kind
    return kind


def get_kind(code: str) -> ApplicationKind:
    from django.utils.translation import gettext as _

    try:
        return KINDS[code]
    except KeyError:
        raise InvalidInput(_("There is no application of this kind."), field="kind") from None


def _load_builtin_kinds() -> None:
    from zhipei.subsidies.kinds import (  # noqa: F401
        enterprise_online_training,
        learner_training,
        living_allowance,
    )


_load_builtin_kinds()
