from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.tenancy import ClientOwned, ClientScopedQuerySet


class RetentionRun(ClientOwned):
    """One run of the retention job over one client whose contract's retention period has
    run out, and its certificate (数据处理证明).

    ``counts`` maps a kind of record (``customer``, ``message`` …) to how many were
    anonymised or deleted; the :class:`RetentionRecord` rows list them, and the
    certificate's SHA-256 is computed over that list, so anyone can check it. At most one
    run per contract: the unique constraint also stops two scheduler processes from both
    starting it."""

    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("服务合同"),
        on_delete=models.PROTECT,
        related_name="retention_runs",
    )
    due_date = models.DateField(_("保留期届满日"))
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Where the job stands, so that the scheduler can do it a few batches per tick and a
    # crashed run resumes: the phase, the last id it finished, and who holds it until when.
    phase = models.CharField(max_length=20, default="customers")
    last_id = models.BigIntegerField(default=0)
    lease_until = models.DateTimeField()
    counts = models.JSONField(_("处理数量"), default=dict, blank=True)
    certificate = models.TextField(_("处理证明"), blank=True)
    certificate_sha256 = models.CharField(_("记录清单 SHA-256"), max_length=64, blank=True)

    objects = ClientScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contract"], name="retention_run_once_per_contract"),
        ]
        indexes = [models.Index(fields=["finished_at"], name="retention_run_unfinished")]
        verbose_name = _("数据保留期处理")
        verbose_name_plural = _("数据保留期处理")

    def __str__(self) -> str:
        return f"retention run #{self.pk} ({self.client_id})"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class RetentionRecord(models.Model):
    """One record a retention run anonymised (or, for attachments, deleted): kind and id
    only, never the data."""

    run = models.ForeignKey(RetentionRun, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(max_length=20)
    record_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "kind", "record_id"], name="retention_record_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.record_id}"
