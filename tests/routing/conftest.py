from __future__ import annotations

from collections.abc import Callable

import pytest

from routing import Classifier, default_classifier


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return default_classifier()


def _spaced(text: str) -> str:
    """Recogniser-style text: no punctuation, a space between every character."""
    return " ".join(ch for ch in text if ch not in "，。！？、,.!? ")


@pytest.fixture(scope="session")
def spaced() -> Callable[[str], str]:
    return _spaced
