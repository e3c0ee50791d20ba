from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    """The services' messages are asserted by their English msgids (the Vietnamese catalogue
    translates them)."""
    with translation.override("en"):
        yield
