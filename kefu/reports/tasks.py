from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django_tasks import task

from kefu.reports.models import ServiceReport


@task()
def report_mail(report_id: int) -> int:
    """Mail an issued report (PDF and XLSX attached) to the contract's recipients."""
    from kefu.reports.services import render_pdf, render_xlsx

    report = ServiceReport.objects.select_related("client").filter(pk=report_id).first()
    if report is None or not report.data.get("contract"):
        return 0
    from kefu.contracts.models import Contract

    contract = Contract.objects.filter(
        client_id=report.client_id, number=report.data["contract"]["contract"]
    ).first()
    recipients = list(contract.report_recipients) if contract else []
    if not recipients:
        return 0
    name = f"{report.client.code}-{report.period}-v{report.version}"
    mail = EmailMessage(
        f"{report.client.name} {report.period} 服务报告 / service report (v{report.version})",
        f"{report.client.name} {report.period} 月度服务报告见附件。\n"
        f"{settings.KEFU_BASE_URL}/reports/issued/{report.pk}/\n",
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
    mail.attach(f"{name}.pdf", render_pdf(report.data, plan=report.plan), "application/pdf")
    mail.attach(
        f"{name}.xlsx",
        render_xlsx(report.data),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    return mail.send()
