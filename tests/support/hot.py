"""``cold(app)``: serve a block of requests without the hot routes (``callyard.api.hot``), so a test can ask
FastAPI's route of an operation what the hot endpoint of the same operation answers."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from callyard.api.common.middleware import Edge


def edge_of(app: Any) -> Edge:
    layer = app.middleware_stack
    for _ in range(20):
        if isinstance(layer, Edge):
            return layer
        layer = layer.app
    raise AssertionError("no Edge middleware in the app")


@contextmanager
def cold(app: Any) -> Iterator[None]:
    index = edge_of(app).routes.index
    saved, index.table = index.table, {}
    try:
        yield
    finally:
        index.table = saved
