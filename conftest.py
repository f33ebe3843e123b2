"""Suite-wide fixtures and the no-silent-skips rule: under CI=true a test that needs Chromium
or ../shared/data fails instead of skipping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


def skip_or_fail(reason: str) -> None:
    """Skip on a developer machine; fail under CI=true (STYLE §11: no silent skips in CI)."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run here)")
    pytest.skip(reason)


@pytest.fixture
def shared_data() -> Path:
    """The full reference files in ../shared/data."""
    path = Path(settings.SHARED_DATA_DIR)
    if not path.is_dir():
        skip_or_fail(f"{path} not found; set SHARED_DATA_DIR to run the full-data tests")
    return path


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        skip_or_fail(
            "Chromium not found; install it with `apt-get install -y chromium` to run browser tests"
        )
    return CHROMIUM
