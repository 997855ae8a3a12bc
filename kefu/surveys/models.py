from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet, client_key


class Survey(ClientOwned):
    """满意度回访: a CSAT request (5-point scale) and its answer, if any."""

    client = client_key(db_index=False)  # survey_client_sent starts with it
    external_id = models.CharField(max_length=100, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    channel = models.CharField(_("渠道"), max_length=10, blank=True)
    sent_at = models.DateTimeField(_("发送时间"))
    answered_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(
        _("评分"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    comment = models.TextField(_("评价"), blank=True)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_id"],
                condition=~Q(external_id=""),
                name="survey_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="survey_score_1_5",
            ),
        ]
        indexes = [models.Index(fields=["client", "sent_at"], name="survey_client_sent")]
        verbose_name = _("满意度回访")
        verbose_name_plural = _("满意度回访")
