"""The contract in the admin: channels as boxes, recipients one per line, milestones and
improvement actions as rows; each refused where the YAML loader refuses it, in its words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient

from kefu.accounts.models import User
from kefu.calendars.services import calendar_load
from kefu.conftest import login
from kefu.contracts.documents import contract_load
from kefu.contracts.models import Client, Contract

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture
def contract(db: None) -> Contract:
    for name in ("cn-standard.yaml", "7x24.yaml"):
        calendar_load(text=(EXAMPLES / "calendars" / name).read_text(encoding="utf-8"))
    Client.objects.create(code="HUAXIN", name="华信智能家居", ticket_prefix="HX")
    return contract_load(text=(EXAMPLES / "contracts" / "huaxin.yaml").read_text("utf-8"))


@pytest.fixture
def admin_http(admin_user: User) -> HttpClient:
    return login(admin_user)


def _change_url(contract: Contract) -> str:
    return f"/admin/contracts/contract/{contract.pk}/change/"


def _posted(http: HttpClient, contract: Contract) -> dict[str, Any]:
    """The change form as the browser would post it unchanged (fields from the page's own
    initial values)."""
    form = http.get(_change_url(contract)).context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        data[name] = field.prepare_value(value) if not isinstance(value, list) else value
    for prefix in ("kpi_targets", "goals"):  # the inlines left as they are
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def test_the_form_shows_lists_as_what_they_are(admin_http: HttpClient, contract: Contract) -> None:
    html = admin_http.get(_change_url(contract)).content.decode()
    assert 'type="checkbox" name="channels" value="wechat"' in html
    assert "kefu-report@huaxin.example\nquality@huaxin.example" in html
    assert "2026-04-15 | 558000 | 第一季度服务费" in html
    assert "[&quot;phone&quot;" not in html and "{&quot;due&quot;" not in html


def test_edits_save_in_the_loaders_shape(admin_http: HttpClient, contract: Contract) -> None:
    data = _posted(admin_http, contract)
    data["channels"] = ["phone", "email"]
    data["report_recipients"] = "ops@huaxin.example\n\n boss@huaxin.example "
    data["payment_milestones"] = "2027-01-15 | 600,000 | 年度服务费"
    page = admin_http.post(_change_url(contract), data)
    assert page.status_code == 302, page.context["adminform"].form.errors
    contract.refresh_from_db()
    assert sorted(contract.channels) == ["email", "phone"]
    assert contract.report_recipients == ["ops@huaxin.example", "boss@huaxin.example"]
    assert contract.payment_milestones == [
        {"due": "2027-01-15", "amount": "600000", "description": "年度服务费"}
    ]


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("channels", [], "这个字段是必填项"),
        ("report_recipients", "ops@huaxin\nnot-an-address", "not an email address"),
        ("payment_milestones", "2027-02-30 | 100 | 二月", "0.due"),
        ("payment_milestones", "2027-01-15 | -5 | 负数", "0.amount"),
        ("payment_milestones", "2027-01-15", "第 1 行"),
    ],
)
def test_bad_values_are_refused_in_the_loaders_words(
    admin_http: HttpClient, contract: Contract, field: str, value: Any, says: str
) -> None:
    before = (contract.channels, contract.report_recipients, contract.payment_milestones)
    data = _posted(admin_http, contract)
    data[field] = value
    page = admin_http.post(_change_url(contract), data)
    assert page.status_code == 200
    errors = " ".join(page.context["adminform"].form.errors.get(field, []))
    assert says in errors, errors
    contract.refresh_from_db()
    assert (contract.channels, contract.report_recipients, contract.payment_milestones) == before


def test_the_loader_refuses_a_bad_recipient_too(contract: Contract) -> None:
    text = (EXAMPLES / "contracts" / "huaxin.yaml").read_text("utf-8")
    with pytest.raises(Exception, match="not an email address"):
        contract_load(text=text.replace("quality@huaxin.example", "quality-at-huaxin"))


def test_admin_speaks_chinese_in_kefus_name(admin_http: HttpClient) -> None:
    html = admin_http.get("/admin/").content.decode()
    assert "kefu 客服 · 管理后台" in html and "Django 管理" not in html
    for label in (
        "登录保护",
        "后台任务",
        "账号与权限",
        "甲方与合同",
        "工单",
        "登录尝试",
        "任务结果",
    ):
        assert label in html, label
    for raw in (">Axes<", ">Tasks Database Backend<", ">Accounts<", ">Task Results<", "Access"):
        assert raw not in html, raw
