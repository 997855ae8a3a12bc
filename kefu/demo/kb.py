"""Demo knowledge base: a few published articles per demo client (smart-home devices for
华信, property services for 明达), one shared article, synonyms and canned replies."""

from __future__ import annotations

from collections.abc import Sequence

from kefu.contracts.models import Client
from kefu.kb import services as kb
from kefu.kb.models import Article, ArticleStatus, Category, SynonymGroup

ARTICLES: dict[str, list[tuple[str, str, str, list[str]]]] = {
    "HUAXIN": [
        (
            "智能门锁",
            "智能门锁无法开锁怎么办",
            "<p>请先检查电池电量：电量低时门锁会发出提示音。</p>"
            "<ol><li>使用应急钥匙或外接 USB 电源开门；</li><li>更换 4 节 5 号碱性电池；</li>"
            "<li>如指纹仍无法识别，请在 App 中重新录入指纹。</li></ol>",
            ["门锁", "开锁"],
        ),
        (
            "智能网关",
            "网关离线或指示灯闪红",
            "<p>网关指示灯闪红表示未连接路由器。请确认家中 WiFi 正常，"
            "然后长按网关复位键 5 秒，在 App 中重新添加网关。</p>",
            ["网关", "离线"],
        ),
        (
            "售后服务",
            "保修期与上门维修说明",
            "<p>华信智能家居产品整机保修一年，主要部件保修三年。"
            "报修后师傅将在 24 小时内联系您预约上门时间。</p>",
            ["保修", "维修"],
        ),
    ],
    "MINGDA": [
        (
            "物业缴费",
            "如何缴纳物业费",
            "<p>可在物业服务中心前台、微信公众号“明达物业”或银行代扣缴纳物业费。"
            "逾期缴纳不收取滞纳金，但会影响停车月卡续办。</p>",
            ["物业费", "缴费"],
        ),
        (
            "报修服务",
            "室内漏水报修流程",
            "<p>发现漏水请先关闭总阀，然后拨打物业服务热线或在公众号提交报修，"
            "工程维修部将在 30 分钟内响应。</p>",
            ["漏水", "报修"],
        ),
        (
            "门禁停车",
            "门禁卡丢失补办",
            "<p>携带身份证到物业服务中心办理，原卡当场注销，新卡工本费 20 元。</p>",
            ["门禁卡"],
        ),
    ],
}
SHARED = (
    "使用帮助",
    "如何在网上提交服务请求",
    "<p>在服务门户填写问题描述并上传照片，提交后可随时查看处理进度。"
    "紧急情况请勾选“紧急”并说明原因。</p>",
    ["门户", "提交"],
)
SYNONYMS: dict[str, list[list[str]]] = {
    "HUAXIN": [["网关", "智能主机", "hub"], ["门锁", "指纹锁", "密码锁"]],
    "MINGDA": [["物业费", "管理费"], ["门禁卡", "门卡"]],
}
CANNED: dict[str, list[tuple[str, str, str]]] = {
    "HUAXIN": [
        ("问候", "问候", "{客户}您好，我是华信智能家居客服{坐席}，很高兴为您服务。"),
        ("上门", "预约上门", "{客户}您好，已为工单 {工单号} 安排师傅上门，师傅会提前电话联系您。"),
        ("结束", "结束语", "感谢您的耐心等待，如还有问题请随时联系我们。工单号：{工单号}。"),
    ],
    "MINGDA": [
        ("问候", "问候", "{客户}您好，明达物业客服{坐席}为您服务。"),
        ("报修", "报修受理", "{客户}您好，您的报修（工单 {工单号}）已受理，工程部将尽快上门。"),
    ],
}


def _articles(client: Client | None, rows: Sequence[tuple[str, str, str, list[str]]]) -> int:
    for category_name, title, body, tags in rows:
        category, _ = Category.objects.get_or_create(client=client, name=category_name)
        kb.article_create(
            actor=None,
            client=client,
            data=kb.ArticleData(
                title=title,
                body=body,
                category=category,
                tags=tags,
                status=ArticleStatus.PUBLISHED,
            ),
        )
    return len(rows)


def demo_kb(*, client: Client) -> dict[str, int]:
    """The client's demo articles, synonyms and canned replies (and, once, the shared
    article)."""
    made = _articles(client, ARTICLES.get(client.code, []))
    if not Article.objects.filter(client__isnull=True, title=SHARED[1]).exists():
        made += _articles(None, [SHARED])
    for terms in SYNONYMS.get(client.code, []):
        kb.synonym_group_save(actor=None, client=client, terms=terms)
    canned = CANNED.get(client.code, [])
    for shortcut, title, body in canned:
        kb.canned_reply_save(actor=None, client=client, shortcut=shortcut, title=title, body=body)
    return {"articles": made, "canned": len(canned)}


def reset(client_ids: Sequence[int]) -> None:
    """Remove the demo clients' knowledge base (and the shared demo article)."""
    for article in Article.objects.filter(client_id__in=client_ids):
        kb.article_delete(actor=None, article=article)
    for article in Article.objects.filter(client__isnull=True, title=SHARED[1]):
        kb.article_delete(actor=None, article=article)
    SynonymGroup.objects.filter(client_id__in=client_ids).delete()
    Category.objects.filter(client_id__in=client_ids).delete()
