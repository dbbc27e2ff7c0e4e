"""Fixtures of the Media tests: cached tokens, the ``pbx`` driver, and the event-consistency check."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.pbx import Events
from tests.support.pbx import as_user, pbx, tokens  # noqa: F401 - shared fixtures (tokens cached per session)


@pytest.fixture(autouse=True)
def events(server) -> Iterator[Events]:
    """Every Media test also checks that each leg state change was announced by exactly one event, with
    sequence numbers that only go up."""
    recorder = Events(server.app.state.core.projections)
    yield recorder
    recorder.close()
    recorder.assert_consistent(server.app.state.core.engine)
