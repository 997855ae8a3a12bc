"""What other apps do when an SLA clock breaches.

sla records a breach and notifies; it never calls another app's services back. An app that
acts on a breach (tickets raises the ticket's priority) registers a function here in its
``AppConfig.ready()``; the function is called inside the transaction that records the
breach and should only enqueue a task of its own app (the task row commits with the
breach)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class Breach:
    ticket_id: int
    clock_id: int
    metric: str
    at: datetime  # when the sweep found it (the clock's breached_at is its due instant)
    # The ticket's first breach, on a target that says so, raises the ticket's priority
    # one step; later breaches only notify (two clocks breaching together must not jump a
    # ticket from normal to urgent).
    raise_priority: bool


BreachAction = Callable[[Breach], None]

_actions: dict[str, BreachAction] = {}


def breach_action_register(name: str, action: BreachAction) -> None:
    """Register (or replace) what app ``name`` does on every breach."""
    _actions[name] = action


def breach_actions() -> list[BreachAction]:
    return [_actions[name] for name in sorted(_actions)]
