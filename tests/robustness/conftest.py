"""Fixture of the robustness suite: ``raises_clearly`` checks type, text and naming at once."""

from __future__ import annotations

import pytest

from . import message_problem


def _raises_clearly(fn, exc, match: str):
    """Call ``fn``; assert it raises ``exc`` matching ``match`` with a good framework message.

    Returns the exception, for further checks.
    """
    with pytest.raises(exc, match=match) as info:
        fn()
    problem = message_problem(str(info.value))
    assert problem is None, f"{type(info.value).__name__} {problem}"
    return info.value


@pytest.fixture(scope="session")
def raises_clearly():
    """``raises_clearly(fn, exc, regex)``: for hypothesis tests whose inputs are drawn.

    Session-scoped (it holds no state), so ``@given`` tests may use it.
    """
    return _raises_clearly
