"""Background work for flows: the stock of recorded encounters (``flows.stock_use``)."""

from __future__ import annotations

import uuid

from django_tasks import task

from routecare.flows import stock_use


@task()
def take_stock(point_id: str) -> int:
    """Every encounter of the point whose stock waits; how many were taken."""
    point = uuid.UUID(point_id)
    taken = 0
    while True:
        count = stock_use.take_waiting(point)
        taken += count
        if count < stock_use.TAKE_BATCH:
            return taken
