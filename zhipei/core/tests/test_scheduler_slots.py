"""Slot arithmetic and job registration: pure functions."""

from datetime import UTC, datetime, timedelta

import pytest

from zhipei.core import scheduler
from zhipei.core.scheduler import Job, next_slot, register_job
from zhipei.core.tests.scheduler_tasks import ping

T0 = datetime(2026, 5, 1, 8, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated_registry(monkeypatch):
    """Jobs registered here must not leak into the scheduler runs of other tests."""
    monkeypatch.setattr(scheduler, "_jobs", dict(scheduler._jobs))


@pytest.mark.parametrize(
    ("now_offset", "expected_offset"),
    [
        (0, 10),  # due exactly now: the next slot is one interval on
        (3, 10),  # a little late
        (10, 20),  # on the following slot already: that one is used now, so skip it
        (95, 100),  # every scheduler was down for a while: no catch-up, just the next slot
        (-5, 10),  # a scheduler whose clock is behind never plans backwards
    ],
)
def test_next_slot_is_the_first_grid_point_after_now(now_offset, expected_offset):
    now = T0 + timedelta(seconds=now_offset)
    assert next_slot(T0, 10, now) == T0 + timedelta(seconds=expected_offset)


def test_registering_the_same_job_twice_is_harmless():
    first = register_job("tests.ping_twice", every_seconds=5, task=ping)
    assert (
        register_job("tests.ping_twice", every_seconds=5, task=ping)
        == first
        == Job("tests.ping_twice", 5, ping)
    )


def test_a_second_job_under_a_taken_name_is_refused():
    register_job("tests.ping_taken", every_seconds=5, task=ping)
    with pytest.raises(ValueError, match="already registered"):
        register_job("tests.ping_taken", every_seconds=6, task=ping)


@pytest.mark.parametrize("name", ["", "nodot", "Audit.Seal", "audit.seal events", "a." + "x" * 99])
def test_bad_job_names_are_refused(name):
    with pytest.raises(ValueError, match="dotted lowercase code"):
        register_job(name, every_seconds=5, task=ping)


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_bad_intervals_are_refused(every):
    with pytest.raises(ValueError, match="positive integer"):
        register_job("tests.ping_bad_interval", every_seconds=every, task=ping)
