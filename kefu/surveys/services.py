"""Every write on surveys and callbacks.

Exactly one survey per resolved ticket: the dispatcher creates it under the
``survey_one_per_resolved_ticket`` constraint (a concurrent dispatcher or a retried job
finds the row there and does nothing), keyed on the ticket, not on a resolution. A ticket
reopened and resolved again keeps its one survey: the customer is asked once per matter,
and the answer stays with the ticket. A ticket reopened before its survey went out waits
until it is resolved again."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.calendars.services import calendar_engine
from kefu.chat.models import Conversation
from kefu.contracts.models import Contract
from kefu.core.audit import audit_record
from kefu.core.models import AuditAction
from kefu.surveys import senders, tasks
from kefu.surveys.models import (
    CallbackKind,
    CallbackOutcome,
    CallbackTask,
    Survey,
    SurveyOrigin,
    SurveyRule,
    SurveyStatus,
)
from kefu.surveys.selectors import rule_for
from kefu.tickets.models import Status, Ticket

# A ticket resolved longer ago than this when the dispatcher first sees it (kefu was down,
# the rule was switched on) gets no survey: a week-old matter is no longer fresh.
DISPATCH_WINDOW = timedelta(days=7)
# A send claimed this long ago by a worker that never reported back is tried again.
SEND_LEASE = timedelta(minutes=10)
COMMENT_LIMIT = 1000
DEFAULT_LOW_SCORE_MAX = 2


class SurveyAnswerRefused(Exception):
    """Why a link cannot take an answer: ``unknown`` (no such survey, or never sent),
    ``expired`` or ``answered``. (An altered link never gets here: its signature fails.)"""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def business_due(contract: Contract | None, start: datetime, minutes: int) -> datetime:
    """``minutes`` of the contract's service hours after ``start`` (wall-clock minutes
    when the contract names no service calendar)."""
    calendar = contract.service_calendar if contract is not None else None
    if calendar is None:
        return start + timedelta(minutes=minutes)
    return calendar_engine(calendar).add(start, minutes)


# ---- dispatch ---------------------------------------------------------------------------


def survey_dispatch_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Create the survey of every ticket whose rule's delay after its first resolution
    has passed, and send those due; returns how many surveys were created."""
    now = now or timezone.now()
    created = 0
    for rule in SurveyRule.objects.filter(active=True).select_related("contract"):
        if rule_for(rule.client_id, now) != rule:
            continue
        floor = max(rule.active_from, now - DISPATCH_WINDOW)
        due = (
            Ticket.objects.filter(
                client_id=rule.client_id,
                channel__in=rule.channels,
                status__in=[Status.RESOLVED, Status.CLOSED],
                first_resolved_at__gte=floor,
                first_resolved_at__lte=now - timedelta(minutes=rule.delay_minutes),
            )
            .exclude(surveys__origin=SurveyOrigin.RESOLUTION)
            .order_by("first_resolved_at")[:limit]
        )
        for ticket in due:
            created += survey_create_for_ticket(ticket=ticket, rule=rule, now=now) is not None
    survey_send_due(now=now)
    return created


@transaction.atomic
def survey_create_for_ticket(
    *, ticket: Ticket, rule: SurveyRule, now: datetime | None = None
) -> Survey | None:
    """The ticket's one survey, queued for its channel's sender (the chat's: its rating,
    offered when the chat ended). ``None`` when it already has one, or its channel has no
    way to carry a survey (an SMS link before kefu can send SMS)."""
    now = now or timezone.now()
    if ticket.channel == "chat":
        return _chat_survey(ticket, now)
    sender = senders.sender_for(ticket.channel)
    if sender is None:
        return None
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                client_id=ticket.client_id,
                ticket=ticket,
                channel=sender.via,
                origin=SurveyOrigin.RESOLUTION,
                status=SurveyStatus.QUEUED,
                due_at=now,
            )
    except IntegrityError:
        return None  # another dispatcher made it first
    audit_record(actor=None, action=AuditAction.CREATE, obj=survey, data={"via": sender.via})
    pk = survey.pk
    transaction.on_commit(lambda: tasks.survey_send_task.enqueue(pk))
    return survey


def _chat_survey(ticket: Ticket, now: datetime) -> Survey | None:
    """A chat is surveyed by its rating, which the widget offers when an answered chat
    ends: a chat rated already has its survey (kefu.chat); one not rated (yet) gets the
    offered, unanswered survey, which a later rating answers."""
    conversation = (
        Conversation.objects.select_for_update()
        .filter(ticket=ticket, answered_at__isnull=False, ended_at__isnull=False)
        .order_by("-ended_at")
        .first()
    )
    if conversation is None or conversation.survey_id is not None:
        return None
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                client_id=ticket.client_id,
                ticket=ticket,
                channel="chat",
                origin=SurveyOrigin.RESOLUTION,
                status=SurveyStatus.SENT,
                sent_at=conversation.ended_at,
            )
    except IntegrityError:
        return None
    Conversation.objects.filter(pk=conversation.pk).update(survey=survey)
    return survey


def survey_send_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send queued surveys whose time has come (a retry, or a first try whose task has not
    run), and settle those a transport has; returns how many were sent."""
    now = now or timezone.now()
    handed = survey_handed_check(now=now)
    ids = list(
        Survey.objects.filter(status=SurveyStatus.QUEUED, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    return handed + sum(survey_send(survey_id=pk, now=now) == SurveyStatus.SENT for pk in ids)


def _claim(survey_id: int, now: datetime) -> Survey | None:
    """Take the send for a while (its ``due_at`` moves past the lease), so two workers never
    send one survey twice; a worker that dies leaves it to be tried after the lease."""
    won = Survey.objects.filter(pk=survey_id, status=SurveyStatus.QUEUED, due_at__lte=now).update(
        due_at=now + SEND_LEASE
    )
    if not won:
        return None
    return Survey.objects.select_related("ticket__client", "ticket__customer").get(pk=survey_id)


def survey_send(*, survey_id: int, now: datetime | None = None) -> str:
    """One attempt at sending a queued survey through its sender; returns its status."""
    now = now or timezone.now()
    survey = _claim(survey_id, now)
    if survey is None:
        row = Survey.objects.filter(pk=survey_id).values_list("status", flat=True).first()
        return row or "missing"
    sender = senders.sender_named(survey.channel)
    try:
        if sender is None:
            raise senders.SendFailed(
                _("没有可用的发送方式 / no way to send by %(via)s") % {"via": survey.channel},
                retryable=False,
            )
        result = sender.send(survey)
    except senders.SendFailed as exc:
        return _failed(survey, now, exc.reason, exc.retryable)
    if isinstance(result, senders.Handed):
        Survey.objects.filter(pk=survey.pk).update(
            status=SurveyStatus.SENDING,
            transport_ref=result.ref[:64],
            attempts=survey.attempts + 1,
            due_at=None,
        )
        return SurveyStatus.SENDING
    _sent(survey, result)
    return SurveyStatus.SENT


def survey_handed_check(*, now: datetime | None = None, limit: int = 500) -> int:
    """Ask the transports about the surveys handed to them: accepted → sent (at the
    instant they accepted it), failed for good → failed; returns how many became sent."""
    now = now or timezone.now()
    sent = 0
    for survey in Survey.objects.filter(status=SurveyStatus.SENDING).order_by("pk")[:limit]:
        sender = senders.sender_named(survey.channel)
        if sender is None or sender.check is None:
            continue
        try:
            accepted = sender.check(survey)
        except senders.SendFailed as exc:
            _failed(survey, now, exc.reason, retryable=False)
            continue
        if accepted is not None:
            _sent(survey, accepted)
            sent += 1
    return sent


def _link_days(survey: Survey) -> int:
    rule = rule_for(survey.client_id, survey.sent_at or timezone.now())
    return rule.link_days if rule is not None else 14


@transaction.atomic
def _sent(survey: Survey, sent_at: datetime) -> None:
    survey.sent_at = sent_at
    survey.expires_at = sent_at + timedelta(days=_link_days(survey))
    Survey.objects.filter(pk=survey.pk).update(
        status=SurveyStatus.SENT,
        sent_at=sent_at,
        expires_at=survey.expires_at,
        attempts=survey.attempts + (survey.status != SurveyStatus.SENDING),
        last_error="",
    )
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        obj=survey,
        field="status",
        data={"status": "sent", "via": survey.channel},
    )


@transaction.atomic
def _failed(survey: Survey, now: datetime, reason: str, retryable: bool) -> str:
    attempts = survey.attempts + 1
    final = not retryable or attempts >= Survey.MAX_ATTEMPTS
    status = SurveyStatus.FAILED if final else SurveyStatus.QUEUED
    Survey.objects.filter(pk=survey.pk).update(
        status=status,
        attempts=attempts,
        last_error=reason[:500],
        due_at=now + timedelta(minutes=2**attempts),
    )
    if final:
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            obj=survey,
            field="status",
            reason=reason[:200],
            data={"status": "failed"},
        )
    return status


# ---- answers ----------------------------------------------------------------------------


def _score(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        raise ValidationError({"score": _("请选择 1–5 分 / Choose a score from 1 to 5")})
    return value


@transaction.atomic
def survey_answer(
    *, survey_id: int, score: object, comment: str = "", at: datetime | None = None
) -> Survey:
    """The customer's answer through the survey's link: once, before it expires. Raises
    :class:`SurveyAnswerRefused` (nothing written) or ValidationError for a bad score."""
    at = at or timezone.now()
    survey = Survey.objects.select_for_update().filter(pk=survey_id).first()
    if survey is None or survey.status != SurveyStatus.SENT or survey.channel == "chat":
        raise SurveyAnswerRefused("unknown")
    if survey.answered_at is not None:
        raise SurveyAnswerRefused("answered")
    if survey.expires_at is not None and at >= survey.expires_at:
        raise SurveyAnswerRefused("expired")
    value = _score(score)
    note = (comment or "").strip()[:COMMENT_LIMIT]
    # The row lock serialises answers on PostgreSQL; the condition does it on SQLite.
    won = Survey.objects.filter(pk=survey.pk, answered_at__isnull=True).update(
        score=value, comment=note, answered_at=at
    )
    if not won:
        raise SurveyAnswerRefused("answered")
    survey.score, survey.comment, survey.answered_at = value, note, at
    audit_record(
        actor=None, action=AuditAction.UPDATE, obj=survey, field="score", data={"score": value}
    )
    survey_followup(survey=survey)
    return survey


def survey_followup(*, survey: Survey) -> CallbackTask | None:
    """After an answer (by link or in the chat): a score at or below the rule's low-score
    threshold opens a callback task for a supervisor, due in the rule's service time.
    Once per survey; a chat rating changed upwards leaves the task open (someone looks)."""
    if survey.score is None or survey.ticket_id is None or survey.answered_at is None:
        return None
    rule = rule_for(survey.client_id, survey.answered_at)
    threshold = rule.low_score_max if rule is not None else DEFAULT_LOW_SCORE_MAX
    if survey.score > threshold:
        return None
    minutes = rule.callback_due_minutes if rule is not None else 480
    contract = rule.contract if rule is not None else None
    try:
        with transaction.atomic():
            task = CallbackTask.objects.create(
                client_id=survey.client_id,
                ticket_id=survey.ticket_id,
                kind=CallbackKind.LOW_SCORE,
                survey=survey,
                created_at=survey.answered_at,
                due_at=business_due(contract, survey.answered_at, minutes),
            )
    except IntegrityError:
        return None  # this survey's callback exists
    audit_record(actor=None, action=AuditAction.CREATE, obj=task, data={"score": survey.score})
    return task


# ---- the weekly phone sample ------------------------------------------------------------


def week_of(day: date) -> date:
    """The Monday of the week ``day`` falls in."""
    return day - timedelta(days=day.weekday())


def _rank(client_code: str, week: date, ticket_id: int) -> str:
    """The sample order: a hash of the client, the week and the ticket, so a rerun of the
    same week picks the same tickets and no ticket is favoured by its number."""
    return hashlib.sha256(f"{client_code}:{week.isoformat()}:{ticket_id}".encode()).hexdigest()


@dataclass(frozen=True)
class ChannelSample:
    channel: str
    resolved: int  # resolved in the week (the base of a percentage)
    eligible: int  # after the rule's exclusions
    size: int  # how many the rule asks for
    picked: list[int]  # ticket ids, in sample order


def sample_size(rule: SurveyRule, resolved: int, eligible: int) -> int:
    """Per channel: ``count``, or ``percent`` of the week's resolved tickets rounded up; at
    least ``minimum``; never more than the eligible tickets."""
    if rule.sample_count is not None:
        wanted = rule.sample_count
    else:
        wanted = math.ceil((rule.sample_percent or 0) * resolved / 100 - 1e-9)
    return min(eligible, max(wanted, rule.sample_minimum))


def callback_sample_plan(*, rule: SurveyRule, week: date) -> list[ChannelSample]:
    """Which tickets the rule picks from the week (Monday ``week``, client time) per
    channel, without writing anything."""
    zone = ZoneInfo(rule.client.time_zone)
    start = datetime(week.year, week.month, week.day, tzinfo=zone)
    end = start + timedelta(days=7)
    resolved = Ticket.objects.filter(
        client_id=rule.client_id, first_resolved_at__gte=start, first_resolved_at__lt=end
    )
    if rule.sample_channels:
        resolved = resolved.filter(channel__in=rule.sample_channels)
    base: dict[str, int] = defaultdict(int)
    for channel in resolved.values_list("channel", flat=True):
        base[channel] += 1
    eligible = resolved.exclude(kind__in=rule.sample_exclude_kinds).exclude(
        callbacks__kind=CallbackKind.SAMPLE
    )
    if rule.sample_exclude_answered:
        eligible = eligible.exclude(surveys__answered_at__isnull=False)
    by_channel: dict[str, list[int]] = defaultdict(list)
    for pk, channel in eligible.values_list("pk", "channel").distinct():
        by_channel[channel].append(pk)
    plan = []
    for channel in sorted(base):
        ids = sorted(by_channel[channel], key=lambda pk: _rank(rule.client.code, week, pk))
        size = sample_size(rule, base[channel], len(ids))
        plan.append(ChannelSample(channel, base[channel], len(ids), size, ids[:size]))
    return plan


@transaction.atomic
def callback_sample_week(
    *, rule: SurveyRule, week: date, now: datetime | None = None
) -> list[CallbackTask]:
    """Turn the week's sample into callback tasks (due in the rule's service time from
    now). Running it again adds nothing; a ticket is never sampled twice (a concurrent run
    picks the same tickets, which the constraint keeps once)."""
    now = now or timezone.now()
    if rule.sample_count is None and rule.sample_percent is None:
        return []
    if CallbackTask.objects.filter(
        client_id=rule.client_id, kind=CallbackKind.SAMPLE, week=week
    ).exists():
        return []  # sampled already (all or nothing: one transaction)
    due = business_due(rule.contract, now, rule.sample_due_minutes)
    created = []
    for sample in callback_sample_plan(rule=rule, week=week):
        for pk in sample.picked:
            try:
                with transaction.atomic():
                    created.append(
                        CallbackTask.objects.create(
                            client_id=rule.client_id,
                            ticket_id=pk,
                            kind=CallbackKind.SAMPLE,
                            week=week,
                            rank=_rank(rule.client.code, week, pk),
                            created_at=now,
                            due_at=due,
                        )
                    )
            except IntegrityError:
                continue
    if created:
        audit_record(
            actor=None,
            action=AuditAction.CREATE,
            client_id=rule.client_id,
            data={"week": week.isoformat(), "tickets": len(created)},
        )
    return created


def callback_sample_due(*, now: datetime | None = None) -> int:
    """Sample last week (client time) for every active rule with a sample; safe to run any
    number of times. Returns how many tasks were created."""
    now = now or timezone.now()
    n = 0
    for rule in SurveyRule.objects.filter(active=True).select_related("client", "contract"):
        if rule_for(rule.client_id, now) != rule:
            continue
        today = now.astimezone(ZoneInfo(rule.client.time_zone)).date()
        n += len(callback_sample_week(rule=rule, week=week_of(today) - timedelta(days=7), now=now))
    return n


# ---- outcomes ---------------------------------------------------------------------------


@transaction.atomic
def callback_record(
    *,
    task: CallbackTask,
    actor: User,
    outcome: str,
    score: object = None,
    comment: str = "",
    at: datetime | None = None,
) -> CallbackTask:
    """The caller's outcome. For a sampled ticket it is a survey with channel phone:
    reached → sent and (with a score) answered; refused → sent, unanswered; not reached →
    no survey (nobody was asked). A low-score callback's outcome stays on the task (the
    customer's score is already counted)."""
    at = at or timezone.now()
    task = CallbackTask.objects.select_for_update().get(pk=task.pk)
    if task.kind == CallbackKind.LOW_SCORE and not actor.has_kefu_perm(Perm.OVERVIEW_VIEW):
        raise PermissionDenied(_("低分回访由主管处理 / Low-score callbacks are for supervisors"))
    if not actor.has_kefu_perm(Perm.TICKET_REPLY):
        raise PermissionDenied(_("你没有执行此操作的权限。"))
    if task.done_at is not None:
        raise ValidationError(_("这个回访已经记录过结果 / This callback is already recorded"))
    if outcome not in CallbackOutcome.values:
        raise ValidationError({"outcome": _("请选择回访结果 / Choose the outcome")})
    value = None
    if score not in (None, ""):
        value = _score(score)
    if value is not None and outcome != CallbackOutcome.REACHED:
        raise ValidationError(
            {"score": _("只有接通的回访才有评分 / Only a reached call has a score")}
        )
    note = (comment or "").strip()[:COMMENT_LIMIT]
    task.outcome, task.score, task.comment = outcome, value, note
    task.done_at, task.done_by = at, actor
    if task.kind == CallbackKind.SAMPLE and outcome != CallbackOutcome.NOT_REACHED:
        task.result = Survey.objects.create(
            client_id=task.client_id,
            ticket_id=task.ticket_id,
            channel="phone",
            origin=SurveyOrigin.CALLBACK,
            status=SurveyStatus.SENT,
            sent_at=at,
            answered_at=at if value is not None else None,
            score=value,
            comment=note if value is not None else "",
        )
    task.save(update_fields=["outcome", "score", "comment", "done_at", "done_by", "result"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=task, field="outcome", data={"outcome": outcome}
    )
    if task.result is not None:
        survey_followup(survey=task.result)
    return task
