"""``kefu kb import|search|export`` as an operator uses them."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from kefu.conftest import Tenant
from kefu.kb.models import Article, ArticleStatus


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _line(**record: object) -> str:
    return json.dumps(record, ensure_ascii=False)


def _import(tenant: Tenant, path: Path) -> tuple[str, str, int]:
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command(
            "kb", "import", "--client", tenant.client.code, str(path), stdout=out, stderr=err
        )
    except SystemExit as exc:
        code = int(exc.code or 0)
    return out.getvalue(), err.getvalue(), code


def _search(tenant: Tenant, query: str, limit: int = 5) -> list[dict[str, object]]:
    out = StringIO()
    call_command(
        "kb",
        "search",
        "--client",
        tenant.client.code,
        "--limit",
        str(limit),
        "--format",
        "json",
        query,
        stdout=out,
    )
    return json.loads(out.getvalue())


def test_import_then_search_gives_source_ids_best_first(tenant_a: Tenant, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "kb.jsonl",
        [
            _line(
                id="FAQ-1",
                title="宽带报障流程",
                body="宽带无法上网时请先重启光猫。",
                category="宽带",
                tags=["报障"],
                lang="zh",
            ),
            _line(
                id="FAQ-2",
                title="套餐变更",
                body="套餐变更次月生效，宽带速率随之调整。",
                category="套餐",
                tags=[],
                lang="zh",
            ),
            _line(
                id=3, title="Bill payment", body="Pay your bill online.", category="账单", lang="en"
            ),
        ],
    )
    out, err, code = _import(tenant_a, path)
    assert code == 0, err
    assert "created 3" in out
    rows = _search(tenant_a, "宽带报障")
    assert [r["id"] for r in rows] == ["FAQ-1", "FAQ-2"]
    assert rows[0]["title"] == "宽带报障流程"
    assert rows[0]["score"] > rows[1]["score"]  # type: ignore[operator]
    assert set(rows[0]) == {"id", "title", "score"}
    assert _search(tenant_a, "bill")[0]["id"] == "3"
    assert [r["id"] for r in _search(tenant_a, "宽带", limit=1)] == ["FAQ-1"]


def test_reimport_updates_in_place_with_a_new_version(tenant_a: Tenant, tmp_path: Path) -> None:
    first = _write(
        tmp_path / "a.jsonl", [_line(id="X1", title="退货政策", body="七天无理由退货。")]
    )
    _import(tenant_a, first)
    second = _write(
        tmp_path / "b.jsonl",
        [
            _line(id="X1", title="退货政策（新）", body="十五天无理由退货。"),
            _line(id="X2", title="换货", body="换货说明"),
        ],
    )
    out, _err, code = _import(tenant_a, second)
    assert code == 0
    assert "created 1, updated 1" in out
    article = Article.objects.get(client=tenant_a.client, source_id="X1")
    assert article.title == "退货政策（新）"
    assert article.version == 2
    assert [v.title for v in article.versions.order_by("number")] == ["退货政策", "退货政策（新）"]
    assert _search(tenant_a, "无理由退货")[0]["id"] == "X1"
    assert _search(tenant_a, "七天") == []
    # The same file again changes nothing.
    out, _err, _code = _import(tenant_a, second)
    assert "created 0, updated 0, unchanged 2" in out


def test_bad_lines_are_reported_by_number_and_good_ones_kept(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "mixed.jsonl",
        [
            _line(id="G1", title="开发票", body="在订单页申请发票。"),
            "{not json",
            _line(id="G2", body="没有标题"),
            _line(id="G3", title="标签错误", body="x", tags="不是列表"),
            _line(id="G4", title="物流查询", body="在订单详情查看物流。"),
        ],
    )
    out, err, code = _import(tenant_a, path)
    assert code == 1
    assert "created 2" in out and "bad lines 3" in out
    assert f"{path}:2: not JSON" in err
    assert f"{path}:3: missing 'title'" in err
    assert f"{path}:4: 'tags' must be a list of strings" in err
    assert set(
        Article.objects.filter(client=tenant_a.client).values_list("source_id", flat=True)
    ) == {"G1", "G4"}


def test_import_keeps_a_status_and_export_round_trips(tenant_a: Tenant, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "kb.jsonl",
        [
            _line(id="D1", title="内部草稿", body="<p>未发布</p>", status="draft"),
            _line(id="P1", title="已发布文章", body="<p>正文<script>alert(1)</script></p>"),
        ],
    )
    _import(tenant_a, path)
    assert Article.objects.get(source_id="D1").status == ArticleStatus.DRAFT
    assert _search(tenant_a, "内部草稿") == []
    out = StringIO()
    call_command("kb", "export", "--client", tenant_a.client.code, stdout=out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in records] == ["D1", "P1"]
    assert "script" not in records[1]["body"]
    assert records[0]["status"] == "draft"


def test_unknown_client_is_one_clear_error(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no client with code 'NOPE'"):
        call_command("kb", "search", "--client", "NOPE", "退款")
