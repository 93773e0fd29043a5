from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from wenming.demands.services import orders_escalate_overdue


@db_periodic_task(crontab(minute="*/10"))
def escalate_overdue_orders() -> int:
    """Every 10 minutes: orders not taken on (or not completed) within their time limit
    move one level up the tree (station → institute → center) and its staff are told."""
    return orders_escalate_overdue()
