"""The sentence a learner reads for uncredited time, rendered from the rule code and its
parameters at display time (ARCHITECTURE invariant 8: never stored as a sentence)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, ngettext

from zhipei.learning.crediting import rules


def render_reason(rule: str, parameters: dict[str, Any]) -> str:  # noqa: PLR0911 - one per rule
    """Plain words for one rule code and its parameters, in the active language."""
    if rule == rules.FACE_CHECK_FAILED:
        return gettext(
            "A face check was failed or not answered in time; study time after it counts "
            "again from the next passed face check."
        )
    if rule == rules.FACE_CHECK_MISSING:
        interval = parameters.get("interval_minutes")
        if isinstance(interval, int):
            return ngettext(
                "No face check was passed within %(minutes)d minute; study time counts again "
                "from the next passed face check.",
                "No face check was passed within %(minutes)d minutes; study time counts again "
                "from the next passed face check.",
                interval,
            ) % {"minutes": interval}
        return gettext(
            "There was no passed face check before this study time; pass a face check when "
            "you start studying."
        )
    if rule == rules.IDLE:
        after = parameters.get("idle_after_minutes")
        if isinstance(after, int):
            return ngettext(
                "There was no activity for more than %(minutes)d minute; the time after that "
                "is not counted.",
                "There was no activity for more than %(minutes)d minutes; the time after that "
                "is not counted.",
                after,
            ) % {"minutes": after}
        return gettext("You were away (idle); the time until you came back is not counted.")
    if rule == rules.SEEK_FORWARD:
        return gettext(
            "You skipped forward in a video; time watching after the skip is not counted "
            "until you have watched the part you skipped."
        )
    if rule == rules.OVERLAP:
        return gettext(
            "You were studying another course or on another platform at the same time; that "
            "time is counted only once, for the session that started first."
        )
    if rule == rules.BEYOND_MEDIA_DURATION:
        seconds = parameters.get("media_duration_seconds")
        minutes = seconds // 60 if isinstance(seconds, int) else 0
        sentence = ngettext(
            "A lesson is counted for no longer than its video or audio lasts (%(minutes)d minute).",
            "A lesson is counted for no longer than its video or audio lasts "
            "(%(minutes)d minutes).",
            minutes,
        ) % {"minutes": minutes}
        earlier = parameters.get("credited_earlier_seconds")
        if isinstance(earlier, int) and earlier > 0:
            earlier_minutes = earlier // 60
            sentence += " " + ngettext(
                "%(minutes)d minute of it was already counted on earlier days.",
                "%(minutes)d minutes of it were already counted on earlier days.",
                earlier_minutes,
            ) % {"minutes": earlier_minutes}
        return sentence
    if rule == rules.DAILY_CAP:
        cap = parameters.get("daily_cap_minutes")
        cap = cap if isinstance(cap, int) else 0
        return ngettext(
            "At most %(minutes)d minute of study a day is counted.",
            "At most %(minutes)d minutes of study a day are counted.",
            cap,
        ) % {"minutes": cap}
    return gettext("This time was not counted.")
