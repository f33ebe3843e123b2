"""The crediting pass's per-minute local day (services._LocalDays) is the day _local_day gives
for every instant, in the site's zone and in zones whose offsets are not whole hours or
minutes (Asia/Kolkata; Asia/Shanghai's local mean time before 1901, +08:05:43)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from zhipei.learning import services

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def exact(micros: int) -> object:
    return services._local_day(EPOCH + timedelta(microseconds=micros))


def midnights(zone_name: str) -> st.SearchStrategy[int]:
    """Instants within a few seconds of local midnights from 1890 to 2040, in microseconds."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)

    def near(day: int, offset: int) -> int:
        midnight = datetime(1890, 1, 1, tzinfo=zone) + timedelta(days=day)
        midnight = midnight.replace(hour=0, minute=0, second=0)
        return (midnight - EPOCH) // timedelta(microseconds=1) + offset

    return st.builds(
        near, st.integers(0, 150 * 366), st.integers(-3_000_000, 3_000_000) | st.just(0)
    )


@settings(max_examples=300)
@given(st.data())
def test_the_minute_cache_gives_the_exact_local_day(data: st.DataObject) -> None:
    for zone in ("Asia/Shanghai", "Asia/Kolkata", "UTC"):
        with override_settings(TIME_ZONE=zone):
            days = services._LocalDays()
            instants = data.draw(st.lists(midnights(zone), min_size=1, max_size=20))
            instants += [i + 1 for i in instants] + [i - 1 for i in instants]
            for micros in instants * 2:  # the second time from the cache
                assert days(micros) == exact(micros), (zone, micros)
