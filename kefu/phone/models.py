from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet, client_key


class CallDirection(models.TextChoices):
    INBOUND = "in", _("呼入")
    OUTBOUND = "out", _("呼出")


class Call(ClientOwned):
    """One phone call offered to the hotline: answered, or abandoned (``answered_at`` null).

    ``wait_s`` and ``talk_s`` are stored when the call is written (DESIGN.md: wait =
    answered − offered, or ended − offered when abandoned; talk = ended − answered − hold) so
    that KPI aggregates are plain sums over indexed rows."""

    client = client_key(db_index=False)  # call_client_offered starts with it
    external_id = models.CharField(max_length=100, blank=True)
    # Inbound: offered to the hotline (the call KPIs). Outbound: an agent called the
    # customer back as a reply on a ticket (its message says what was said).
    direction = models.CharField(
        _("方向"),
        max_length=3,
        choices=CallDirection.choices,
        default=CallDirection.INBOUND,
        db_default=CallDirection.INBOUND,
    )
    offered_at = models.DateTimeField(_("来电时间"))
    answered_at = models.DateTimeField(_("接通时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"))
    wait_s = models.PositiveIntegerField(_("等待秒数"))
    talk_s = models.PositiveIntegerField(_("通话秒数"), default=0)
    hold_s = models.PositiveIntegerField(_("保持秒数"), default=0)
    acw_s = models.PositiveIntegerField(_("话后处理秒数"), default=0)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    queue = models.CharField(_("队列"), max_length=100, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    message = models.OneToOneField(
        "tickets.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="call",
    )

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-offered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_id"],
                condition=~Q(external_id=""),
                name="call_unique_external_id",
            )
        ]
        indexes = [models.Index(fields=["client", "offered_at"], name="call_client_offered")]
        verbose_name = _("呼叫")
        verbose_name_plural = _("呼叫")

    @property
    def answered(self) -> bool:
        return self.answered_at is not None
