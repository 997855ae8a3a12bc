"""KPI formulas (DESIGN.md, "KPI formulas"): one definition used by dashboard, API and
report alike. Pure Python: the database layer (``kefu.reports.selectors``) counts, this
module turns counts into figures.

Every figure is ``{"value": v, "numerator": n, "denominator": d}``. A ratio or mean with an
empty denominator has ``value`` ``None`` (``null`` in JSON, "—" on screen), never 0 % or
100 %. Durations are in seconds."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict


class Figure(TypedDict):
    value: float | None
    numerator: float
    denominator: float


def ratio(numerator: float, denominator: float) -> Figure:
    """``numerator / denominator``; ``None`` when the denominator is 0."""
    value = None if denominator == 0 else numerator / denominator
    return {"value": value, "numerator": numerator, "denominator": denominator}


def mean(total: float, count: float) -> Figure:
    """An average duration (seconds): the same shape as a ratio."""
    return ratio(total, count)


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


SHORT_ABANDON_S = 5
DEFAULT_SERVICE_LEVEL_S = 20


def service_level(answered_within: int, offered: int, short_abandons: int) -> Figure:
    """Calls answered with wait ≤ T ÷ (offered calls − calls abandoned within 5 s)."""
    return ratio(answered_within, offered - short_abandons)


def display(figure: Figure, *, percent: bool = True, digits: int = 1) -> str:
    """How a figure reads on screen: "—" for no value."""
    value = figure["value"]
    if value is None:
        return "—"
    if percent:
        return f"{value * 100:.{digits}f}%"
    return f"{value:.{digits}f}"


# Live chat (DESIGN.md, "Chats"). A chat belongs to the period it started in; only chats
# offered to the agents count (they joined the queue: a message left out of hours never
# waited for anyone). Waits are wall-clock seconds: a chat only queues while the service
# is open.


@dataclass(frozen=True, slots=True)
class Chat:
    """One offered chat as the chat figures see it: what happened, in seconds after it
    joined the queue (``None`` for what did not happen). ``written``: the customer's first
    message; ``accepted``: an agent took the chat; ``answered``: the customer's widget
    acknowledged the first agent message; ``ended``: the chat ended, whoever ended it;
    ``gave_up``: nobody took it within the widget's ``max_wait_s`` and it became a left
    message; ``agent``: who answered it (else who had it), any hashable id."""

    written: float | None = None
    accepted: float | None = None
    answered: float | None = None
    ended: float | None = None
    gave_up: bool = False
    max_wait_s: float = 0
    agent: Hashable | None = None


def chat_wait(chat: Chat) -> float | None:
    """Seconds the customer waited for the first answer: from their first message when
    they wrote before the answer, else from joining the queue (the agent spoke first).
    ``None`` for a chat no answer reached."""
    if chat.answered is None:
        return None
    written = chat.written
    if written is not None and written < chat.answered:
        return chat.answered - written
    return chat.answered


def chat_left_after(chat: Chat) -> float | None:
    """Seconds from joining the queue to leaving it unanswered: the chat ended or was
    given up to leave-message before any answer reached the customer. A give-up not
    stamped with an end counts at the widget's limit, the earliest moment it can have
    happened. ``None`` for an answered chat or one still open."""
    if chat.answered is not None:
        return None
    if chat.ended is not None:
        return chat.ended
    if chat.gave_up:
        return float(chat.max_wait_s)
    return None


def asa_chat(chats: Iterable[Chat]) -> Figure:
    """Chat ASA: Σ :func:`chat_wait` ÷ answered chats."""
    waits = [w for w in map(chat_wait, chats) if w is not None]
    return mean(sum(waits), len(waits))


def chat_queue_wait(chats: Iterable[Chat]) -> Figure:
    """Σ(accepted − queued) ÷ chats an agent accepted (answered or not)."""
    waits = [c.accepted for c in chats if c.accepted is not None]
    return mean(sum(waits), len(waits))


class FirstResponse(Figure):
    """A mean wait with its median and the share within a target (``target_s`` seconds;
    without a target nothing is judged: ``within_target`` has no value and 0 ÷ 0)."""

    median: float | None
    within_target: Figure
    target_s: float | None


def chat_first_response(chats: Iterable[Chat], target_s: float | None) -> FirstResponse:
    """The :func:`chat_wait` of the answered chats: mean, median and share ≤ ``target_s``."""
    waits = [w for w in map(chat_wait, chats) if w is not None]
    within = (
        ratio(sum(w <= target_s for w in waits), len(waits))
        if target_s is not None
        else ratio(0, 0)
    )
    return {
        **mean(sum(waits), len(waits)),
        "median": median(waits),
        "within_target": within,
        "target_s": target_s,
    }


def chat_abandons(chats: Iterable[Chat]) -> tuple[int, int, int]:
    """(offered, abandoned, short): short abandons left within SHORT_ABANDON_S seconds;
    abandoned are the others left unanswered."""
    offered = abandoned = short = 0
    for chat in chats:
        offered += 1
        left = chat_left_after(chat)
        if left is None:
            continue
        if left <= SHORT_ABANDON_S:
            short += 1
        else:
            abandoned += 1
    return offered, abandoned, short


def chat_abandon_rate(chats: Iterable[Chat]) -> Figure:
    """Chats left unanswered after more than 5 s ÷ (offered − those left within 5 s): a
    customer gone within 5 s never really waited (the short-abandon rule, as for calls)."""
    offered, abandoned, short = chat_abandons(chats)
    return ratio(abandoned, offered - short)


def chats_by_agent(chats: Iterable[Chat]) -> dict[Hashable, Figure]:
    """Per agent, the answered chats attributed to them: their mean :func:`chat_wait`
    (the denominator is how many chats they answered)."""
    waits: dict[Hashable, list[float]] = {}
    for chat in chats:
        wait = chat_wait(chat)
        if wait is not None and chat.agent is not None:
            waits.setdefault(chat.agent, []).append(wait)
    return {agent: mean(sum(w), len(w)) for agent, w in waits.items()}


def chats_per_agent(chats: Iterable[Chat]) -> Figure:
    """Answered chats with an agent ÷ agents who answered at least one."""
    per_agent = chats_by_agent(chats)
    return ratio(sum(f["denominator"] for f in per_agent.values()), len(per_agent))
