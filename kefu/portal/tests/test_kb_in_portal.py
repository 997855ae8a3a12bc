"""The knowledge base inside the portal: its public pages in the portal's frame, suggestions
on the new-request form, and a request submitted after reading an article is not counted
as deflected."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kefu.conftest import Tenant
from kefu.kb.models import ArticleStatus
from kefu.kb.selectors import deflection_figures
from kefu.kb.services import ArticleData, article_create
from kefu.portal.models import PortalSite
from kefu.portal.tests.test_pages import _signed_in


def _article(t: Tenant) -> int:
    article = article_create(
        actor=None,
        client=t.client,
        data=ArticleData(
            title="光猫亮红灯怎么办", body="请重启光猫。", status=ArticleStatus.PUBLISHED
        ),
    )
    return int(article.pk)


def test_help_pages_wear_the_portals_name_and_the_form_suggests(
    tenant_a: Tenant, site_a: PortalSite
) -> None:
    pk = _article(tenant_a)
    http = _signed_in(site_a)
    page = http.get(f"/p/ACME/kb/a/{pk}/").content.decode()
    assert site_a.display_name in page and "请重启光猫" in page
    assert 'href="/p/ACME/"' in page  # the portal's own header, back to its start page
    form = http.get("/p/ACME/tickets/new/").content.decode()
    assert 'data-kb-suggest="/p/ACME/kb/suggest' in form and "kb-suggest.js" in form


def test_reading_then_asking_is_not_a_deflection(tenant_a: Tenant, site_a: PortalSite) -> None:
    pk = _article(tenant_a)
    reader, asker = _signed_in(site_a), _signed_in(site_a, phone="13900139000")
    for http in (reader, asker):
        assert http.get(f"/p/ACME/kb/a/{pk}/?from=suggest").status_code == 200
    asked = asker.post("/p/ACME/tickets/new/", {"kind": "fault", "description": "重启也没用"})
    assert asked.status_code == 302
    later = timezone.now() + timedelta(hours=1)
    figures = deflection_figures(
        client=tenant_a.client, year=later.year, month=later.month, now=later
    )
    assert (figures.views, figures.deflected) == (2, 1)
