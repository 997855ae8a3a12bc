"""The client's review of an issued report: sign it off with a comment, or dispute it with
a reason the provider answers in kefu.

Only the current version (the highest of its month) can be signed off or disputed: a
superseded version's figures are no longer the provider's word. A version is signed off
once; a dispute does not block a later sign-off of the same version (the answer may settle
it) and a new version supersedes it. Every step is in the audit log, in the same
transaction as the change."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.accounts.roles import Role
from kefu.core.audit import audit_record
from kefu.reports.models import ReportReview, ReviewKind, ServiceReport

MAX_TEXT = 5000


@dataclass(frozen=True)
class ReviewState:
    """What the page and the PDF say about a version."""

    current: bool
    latest_version: int
    signed: bool
    open_disputes: int

    @property
    def label(self) -> str:
        if self.signed:
            return _("甲方已确认 / signed off by the client")
        if not self.current:
            return _("已被 v%(version)s 取代 / superseded by v%(version)s") % {
                "version": self.latest_version
            }
        if self.open_disputes:
            return _("甲方有异议，待乙方答复 / disputed, awaiting the provider's answer")
        return _("待甲方确认 / awaiting the client's sign-off")


def report_latest_version(report: ServiceReport) -> int:
    latest = ServiceReport.objects.filter(
        client_id=report.client_id, period=report.period
    ).aggregate(v=Max("version"))["v"]
    return int(latest or report.version)


def report_review_state(report: ServiceReport) -> ReviewState:
    latest = report_latest_version(report)
    return ReviewState(
        current=report.version >= latest,
        latest_version=latest,
        signed=report.signed_off_at is not None,
        open_disputes=report.reviews.filter(kind=ReviewKind.DISPUTE, answered_at=None).count(),
    )


def _check_reviewer(report: ServiceReport, actor: User) -> None:
    if actor.role != Role.AUDITOR or actor.client_id != report.client_id:
        raise PermissionDenied(_("只有该甲方的审核人可以确认或提出异议"))
    if report.signed_off_at is not None:
        raise ValidationError(_("该版本已确认 / this version is already signed off"))
    latest = report_latest_version(report)
    if report.version < latest:
        raise ValidationError(
            _("v%(old)s 已被 v%(new)s 取代，只能审核最新版本 / superseded: review v%(new)s")
            % {"old": report.version, "new": latest}
        )


def _text(value: str, *, required: bool, what: str) -> str:
    value = value.strip()
    if required and not value:
        raise ValidationError(_("请填写%(what)s") % {"what": what})
    if len(value) > MAX_TEXT:
        raise ValidationError(_("%(what)s最多 %(n)s 字") % {"what": what, "n": MAX_TEXT})
    return value


def _locked(report: ServiceReport) -> ServiceReport:
    return ServiceReport.objects.select_for_update().get(pk=report.pk)


@transaction.atomic
def report_sign_off(*, report: ServiceReport, actor: User, comment: str = "") -> ReportReview:
    """The client's auditor confirms the version's figures (``comment`` optional)."""
    report = _locked(report)
    _check_reviewer(report, actor)
    comment = _text(comment, required=False, what=_("意见"))
    now = timezone.now()
    report.signed_off_at = now
    report.signed_off_by = actor
    report.save(update_fields=["signed_off_at", "signed_off_by"])
    review = ReportReview.objects.create(
        client_id=report.client_id,
        report=report,
        kind=ReviewKind.SIGN_OFF,
        comment=comment,
        by=actor,
        at=now,
    )
    audit_record(
        actor=actor,
        action="report.sign_off",
        obj=report,
        reason=comment,
        data={"version": report.version},
    )
    return review


@transaction.atomic
def report_dispute(*, report: ServiceReport, actor: User, reason: str) -> ReportReview:
    """The client's auditor disputes the version's figures; ``reason`` is required and goes
    to the provider, who answers it (:func:`report_dispute_answer`)."""
    report = _locked(report)
    _check_reviewer(report, actor)
    reason = _text(reason, required=True, what=_("异议理由"))
    review = ReportReview.objects.create(
        client_id=report.client_id,
        report=report,
        kind=ReviewKind.DISPUTE,
        comment=reason,
        by=actor,
        at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action="report.dispute",
        obj=report,
        reason=reason,
        data={"version": report.version},
    )
    return review


@transaction.atomic
def report_dispute_answer(*, review: ReportReview, actor: User, answer: str) -> ReportReview:
    """The provider's supervisor or admin answers a dispute once."""
    if actor.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise PermissionDenied(_("只有乙方主管或管理员可以答复异议"))
    review = ReportReview.objects.select_for_update().get(pk=review.pk)
    if review.kind != ReviewKind.DISPUTE:
        raise ValidationError(_("只能答复异议"))
    if review.answered_at is not None:
        raise ValidationError(_("该异议已答复 / already answered"))
    review.answer = _text(answer, required=True, what=_("答复"))
    review.answered_by = actor
    review.answered_at = timezone.now()
    review.save(update_fields=["answer", "answered_by", "answered_at"])
    audit_record(
        actor=actor,
        action="report.dispute_reply",
        obj=review.report,
        reason=review.answer,
        data={"version": review.report.version, "review": review.pk},
    )
    return review


def report_stamp(report: ServiceReport, state: ReviewState | None = None) -> str:
    """The line an issued version carries on its page and its PDF: version, issue time
    (the client's zone) and review state, with who signed it off and when. ``state``: the
    one the caller already read (:func:`report_review_state`), else read here."""
    zone = ZoneInfo(report.client.time_zone)
    parts = [
        _("版本 v%(version)s") % {"version": report.version},
        _("发布于 %(at)s") % {"at": report.issued_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")},
        (state or report_review_state(report)).label,
    ]
    if report.signed_off_at is not None:
        parts.append(
            _("确认人 %(who)s，%(at)s")
            % {
                "who": report.signed_off_by or "—",
                "at": report.signed_off_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            }
        )
    return " · ".join(str(p) for p in parts)
