"""The live chat formulas (kefu.reports.kpi, no database): each chat's wait and abandonment
as tables of cases, and every figure against a slow reading that walks each chat second by
second (tests/test_kpi.py has the shared helpers: ratios, medians)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kefu.reports import kpi


def chat(
    *,
    written: float | None = None,
    accepted: float | None = None,
    answered: float | None = None,
    ended: float | None = None,
    gave_up: bool = False,
    max_wait: float = 180,
    agent: Hashable | None = None,
) -> kpi.Chat:
    """A chat; its instants in seconds after it joined the queue."""
    return kpi.Chat(
        written=written,
        accepted=accepted,
        answered=answered,
        ended=ended,
        gave_up=gave_up,
        max_wait_s=max_wait,
        agent=agent,
    )


@pytest.mark.parametrize(
    ("case", "wait"),
    [
        # The customer wrote at 5 s, the first reply reached them at 45 s.
        (chat(written=5, accepted=30, answered=45), 40.0),
        # The agent greeted first (answered at 10 s), the customer wrote afterwards: the
        # wait runs from joining the queue.
        (chat(accepted=4, answered=10, written=20), 10.0),
        (chat(accepted=4, answered=10), 10.0),
        # Written at the very instant of the answer is not "before" it.
        (chat(written=10, answered=10), 10.0),
        # Accepted but the reply never reached the widget: no answer, no wait.
        (chat(written=1, accepted=8), None),
        (chat(written=1, ended=60), None),
    ],
)
def test_chat_wait(case: kpi.Chat, wait: float | None) -> None:
    assert kpi.chat_wait(case) == wait


@pytest.mark.parametrize(
    ("case", "left"),
    [
        (chat(ended=3), 3.0),
        (chat(written=10, ended=60), 60.0),
        # Accepted by an agent whose reply never reached the customer: still unanswered.
        (chat(accepted=20, ended=90), 90.0),
        # Given up to leave-message with no end stamped: at the widget's limit.
        (chat(gave_up=True, max_wait=180), 180.0),
        (chat(gave_up=True, max_wait=180, ended=200), 200.0),
        (chat(answered=30, ended=400), None),  # answered: not abandoned, however it ended
        (chat(written=3), None),  # still waiting
        (chat(accepted=3), None),  # in progress, no answer yet
    ],
)
def test_chat_left_after(case: kpi.Chat, left: float | None) -> None:
    assert kpi.chat_left_after(case) == left


def test_abandon_rate_leaves_short_abandons_out_of_both_sides() -> None:
    chats = [
        chat(answered=40),
        chat(ended=3),  # within 5 s: neither abandoned nor offered
        chat(ended=5),  # exactly 5 s is still a short abandon
        chat(ended=5.5),
        chat(gave_up=True),
        chat(written=2),  # still waiting: offered, not abandoned
    ]
    assert kpi.chat_abandons(chats) == (6, 2, 2)
    assert kpi.chat_abandon_rate(chats) == {"value": 0.5, "numerator": 2, "denominator": 4}
    # Every chat left within 5 s: no figure, never 0 % or 100 %.
    assert kpi.chat_abandon_rate([chat(ended=1), chat(gave_up=True, max_wait=4)])["value"] is None


def test_first_response_share_needs_a_target() -> None:
    chats = [chat(written=0, answered=w) for w in (10, 40, 90)] + [chat(ended=60)]
    figure = kpi.chat_first_response(chats, 60)
    assert figure == {
        "value": 140 / 3,
        "numerator": 140.0,
        "denominator": 3,
        "median": 40.0,
        "within_target": {"value": 2 / 3, "numerator": 2, "denominator": 3},
        "target_s": 60,
    }
    assert kpi.chat_first_response(chats, 40)["within_target"]["numerator"] == 2  # ≤, not <
    untargeted = kpi.chat_first_response(chats, None)
    assert untargeted["within_target"] == {"value": None, "numerator": 0, "denominator": 0}
    assert untargeted["value"] == kpi.asa_chat(chats)["value"]


def test_chats_per_agent_counts_answered_chats_with_an_agent() -> None:
    chats = [
        chat(answered=40, agent="li"),
        chat(answered=20, agent="li"),
        chat(answered=10, agent="wang"),
        chat(answered=10),  # nobody to attribute it to
        chat(accepted=5, agent="zhao", ended=30),  # accepted, never answered
    ]
    assert kpi.chats_by_agent(chats) == {
        "li": {"value": 30.0, "numerator": 60.0, "denominator": 2},
        "wang": {"value": 10.0, "numerator": 10.0, "denominator": 1},
    }
    assert kpi.chats_per_agent(chats) == {"value": 1.5, "numerator": 3, "denominator": 2}
    assert kpi.chats_per_agent([])["value"] is None


def test_no_chats_no_figures() -> None:
    for figure in (
        kpi.asa_chat([]),
        kpi.chat_queue_wait([]),
        kpi.chat_abandon_rate([]),
        kpi.chats_per_agent([]),
        kpi.chat_first_response([], 60),
        kpi.chat_first_response([], 60)["within_target"],
    ):
        assert figure["value"] is None
        assert kpi.display(figure) == "—"


# The slow reading: whole seconds, each chat walked one second at a time from the queue.


@dataclass(frozen=True)
class Story:
    written: int | None
    accepted: int | None
    answered: int | None
    ended: int | None
    gave_up: bool
    max_wait: int
    agent: int | None

    def chat(self) -> kpi.Chat:
        return chat(
            written=self.written,
            accepted=self.accepted,
            answered=self.answered,
            ended=self.ended,
            gave_up=self.gave_up,
            max_wait=self.max_wait,
            agent=self.agent,
        )


def _maybe(low: int = 0) -> st.SearchStrategy[int | None]:
    return st.none() | st.integers(low, 400)


@st.composite
def stories(draw: st.DrawFn) -> Story:
    accepted = draw(_maybe())
    answered = draw(_maybe(accepted or 0)) if accepted is not None else None
    gave_up = accepted is None and draw(st.booleans())
    max_wait = draw(st.integers(0, 240))
    ended = draw(_maybe(max(answered or 0, accepted or 0)))
    if gave_up and ended is not None:
        ended = max(ended, max_wait)
    return Story(
        written=draw(_maybe()),
        accepted=accepted,
        answered=answered,
        ended=ended,
        gave_up=gave_up,
        max_wait=max_wait,
        agent=draw(st.none() | st.integers(1, 4)),
    )


def slow_wait(s: Story) -> int | None:
    """Count the seconds, from joining the queue to the answer, during which the customer
    was waiting for it: from their first message if they had written by then, else from the
    start (for an agent who spoke first, the customer waited from the start)."""
    if s.answered is None:
        return None
    wrote_first = s.written is not None and s.written < s.answered
    waited = 0
    for second in range(s.answered):
        if not wrote_first or (s.written is not None and second >= s.written):
            waited += 1
    return waited


def slow_left(s: Story) -> int | None:
    """Walk the queue until the customer is answered (None), leaves, or is given up."""
    second = 0
    while True:
        if s.answered is not None and second >= s.answered:
            return None
        if s.ended is not None and second >= s.ended:
            return second
        if s.ended is None and s.gave_up and second >= s.max_wait:
            return second
        if second > 10_000:  # still open
            return None
        second += 1


@given(st.lists(stories(), max_size=25), st.none() | st.integers(0, 300))
def test_chat_figures_match_the_slow_reading(story_list: list[Story], target: int | None) -> None:
    chats = [s.chat() for s in story_list]
    waits = [w for w in map(slow_wait, story_list) if w is not None]

    asa = kpi.asa_chat(chats)
    assert (asa["numerator"], asa["denominator"]) == (sum(waits), len(waits))
    assert asa["value"] == (statistics.fmean(waits) if waits else None)

    fr = kpi.chat_first_response(chats, target)
    assert fr["median"] == (statistics.median(waits) if waits else None)
    if target is None or not waits:
        assert fr["within_target"]["value"] is None
    else:
        assert fr["within_target"]["numerator"] == len([w for w in waits if w <= target])

    accepted = [s.accepted for s in story_list if s.accepted is not None]
    queue = kpi.chat_queue_wait(chats)
    assert (queue["numerator"], queue["denominator"]) == (sum(accepted), len(accepted))

    left = [slow_left(s) for s in story_list]
    short = len([x for x in left if x is not None and x <= 5])
    abandoned = len([x for x in left if x is not None and x > 5])
    rate = kpi.chat_abandon_rate(chats)
    assert (rate["numerator"], rate["denominator"]) == (abandoned, len(story_list) - short)
    if rate["value"] is not None:
        assert 0 <= rate["value"] <= 1

    per_agent = Counter(s.agent for s in story_list if s.answered is not None and s.agent)
    assert {a: f["denominator"] for a, f in kpi.chats_by_agent(chats).items()} == per_agent
    spa = kpi.chats_per_agent(chats)
    assert (spa["numerator"], spa["denominator"]) == (sum(per_agent.values()), len(per_agent))
