from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Service messages are checked in English (the msgids); pages ask for English too."""
    with translation.override("en"):
        yield
