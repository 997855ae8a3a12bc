"""A generated Chinese knowledge base and queries with known answers, for bench/kb_search.py.

Deterministic for a seed. Articles are about one product or service of one domain (broadband
and telecom, home appliances, online shopping, utilities) and one problem, named by a model
code or a shop name the way customers name them (HG8245H 光猫, 优选家居旗舰店): the variant
tells articles on the same problem apart, so every query has one right answer. Bodies mix
the problem's own sentences with the domain's common words, so that frequent words
(宽带, 订单, 客服) match tens of thousands of articles, as they do in a real knowledge base.

Queries come in three kinds: ``direct`` (the customer's words are the article's, in another
order, with filler), ``synonym`` (the customer says 光猫 where the article says 调制解调器,
the client has that synonym group) and ``paraphrase`` (上不了网 for 无法上网: either a
client synonym group, or a colloquial form sharing only part of the words)."""

from __future__ import annotations

import random
from dataclasses import dataclass

# entity -> the client's synonyms of it (the article uses the entity, or one synonym)
DOMAINS: dict[str, dict[str, list[str]]] = {
    "宽带通信": {
        "光猫": ["调制解调器", "猫"],
        "路由器": ["无线路由"],
        "机顶盒": ["IPTV盒子", "电视盒子"],
        "宽带": ["家庭宽带"],
        "手机卡": ["SIM卡"],
        "固定电话": ["座机"],
        "5G套餐": ["5G业务"],
    },
    "家用电器": {
        "空调": ["冷气机"],
        "冰箱": ["电冰箱"],
        "洗衣机": ["滚筒洗衣机"],
        "热水器": ["燃气热水器"],
        "油烟机": ["抽油烟机"],
        "扫地机器人": ["扫地机"],
    },
    "网上购物": {
        "订单": ["购物订单"],
        "快递": ["物流", "包裹"],
        "优惠券": ["红包"],
        "会员": ["VIP"],
        "发票": ["电子发票"],
        "退货": ["退换货"],
    },
    "生活缴费": {
        "电费": ["电费账单"],
        "水费": ["自来水费"],
        "燃气费": ["煤气费"],
        "智能电表": ["电表"],
    },
}

# (title words, colloquial paraphrase, whether the paraphrase is a client synonym, body)
ISSUES: dict[str, list[tuple[str, str, bool, str]]] = {
    "宽带通信": [
        ("无法上网", "上不了网", True, "重启设备后等待三分钟再试，检查网线和光纤接口是否松动。"),
        ("指示灯闪红", "亮红灯", True, "LOS灯闪红表示光纤信号中断，请检查入户光纤是否弯折。"),
        ("网速慢", "网很卡", True, "测速请用网线直连，避开晚高峰，并检查是否有设备在下载。"),
        ("频繁掉线", "老是掉线", False, "掉线多由线路老化或设备过热引起，可申请上门检测。"),
        ("无线密码修改", "改WiFi密码", False, "登录管理页面，在无线设置中修改密码后保存。"),
        ("办理移机", "搬家移机", False, "移机需提前三个工作日预约，新地址需具备光纤覆盖。"),
        ("资费查询", "查话费", False, "通过营业厅应用或短信查询本月资费与余额。"),
        ("故障报修", "报修网络故障", False, "报修后师傅会在二十四小时内联系您预约上门时间。"),
        ("套餐变更", "换套餐", True, "套餐变更次月生效，当月费用按原套餐计算。"),
        ("无法开机", "开不了机", True, "检查电源适配器，按住电源键十秒后重新通电。"),
    ],
    "家用电器": [
        ("不制冷", "不冷", False, "检查滤网是否堵塞、室外机是否通风，并确认模式为制冷。"),
        ("噪音大", "声音很响", True, "请检查设备是否放置平稳，内部是否有异物。"),
        ("漏水", "渗水", True, "排水管弯折或堵塞会导致漏水，请先断电再检查。"),
        ("显示故障代码", "屏幕出现代码", False, "故障代码含义见说明书，记下代码后联系售后。"),
        ("预约安装", "约师傅安装", False, "购买后可在线预约安装，师傅上门前会电话确认。"),
        ("保修政策", "保修多久", False, "整机保修一年，主要部件保修三年，凭购买凭证享受服务。"),
        ("无法开机", "开不了机", True, "检查插座和电源线，确认没有跳闸后再开机。"),
        ("有异味", "有味道", True, "长期未清洁会产生异味，建议清洗滤网和内筒。"),
        ("遥控器失灵", "遥控没反应", False, "更换电池并对准接收窗口，仍无效可重新配对。"),
    ],
    "网上购物": [
        ("申请退款", "想退钱", True, "退款审核通过后原路返回，一般三至七个工作日到账。"),
        ("修改收货地址", "改地址", False, "订单发货前可在订单详情中修改收货地址。"),
        ("开具发票", "开票", True, "订单完成后可在订单详情申请电子发票，七天内开具。"),
        ("配送延迟", "迟迟不到", False, "受天气和节假日影响配送可能延迟，可查看物流详情。"),
        ("商品破损", "东西坏了", False, "签收时发现破损请拍照留存，在售后页面申请处理。"),
        ("取消订单", "不想要了", False, "未发货的订单可直接取消，已发货需拒收或申请退货。"),
        ("支付失败", "付不了款", True, "请检查银行卡余额和支付限额，或更换支付方式。"),
        ("价格保护", "降价补差", True, "购买后七天内降价可申请价格保护，差价退回原支付账户。"),
        ("账号被冻结", "账号被封", True, "账号异常时会被临时冻结，完成身份验证后可解冻。"),
    ],
    "生活缴费": [
        ("缴费未到账", "交了钱没到账", False, "缴费后一般两小时内到账，高峰期可能延迟。"),
        ("账单金额异常", "钱扣多了", False, "请核对抄表读数与阶梯价格，如有疑问可申请复核。"),
        ("开通自动扣费", "自动交费", False, "绑定银行卡后每月账单日自动扣费，余额不足会短信提醒。"),
        ("欠费停用", "欠费停了", True, "欠费超过期限会暂停服务，缴清欠费后一般两小时内恢复。"),
        ("户名变更", "过户", True, "户名变更需携带房产证明和身份证件到营业厅办理。"),
        ("读数不准", "表走得快", False, "可申请校验计量装置，检测费用在确有误差时免收。"),
    ],
}

FILLER = [
    "如需人工帮助，请拨打客服热线或在线联系客服。",
    "本文适用于所有地区的用户，部分细节以当地营业厅为准。",
    "操作前请确认您已登录账户，并准备好相关凭证。",
    "若按上述步骤仍无法解决，请提交工单，我们会尽快处理。",
    "温馨提示：请勿向任何人透露验证码。",
    "客服工作时间为每天八点至二十二点，节假日正常服务。",
    "更多常见问题请查看帮助中心的相关分类。",
]
DOMAIN_WORDS = {
    "宽带通信": "宽带 光纤 网络 信号 营业厅 话费 流量 设备",
    "家用电器": "售后 维修 师傅 上门 配件 说明书 电源 型号",
    "网上购物": "订单 商品 售后 物流 支付 账户 客服 店铺",
    "生活缴费": "账单 缴费 营业厅 账户 余额 短信 银行卡",
}
SHOP_A = [
    "优选", "品质", "百货", "优品", "家居", "数码", "美妆", "母婴", "生鲜",
    "运动", "图书", "宠物", "户外", "潮流", "国货", "智能", "厨房", "服饰",
]  # fmt: skip
SHOP_B = [
    "旗舰店", "专营店", "自营店", "官方店", "直营店", "优选店",
    "精品店", "工厂店", "折扣店", "体验店", "专卖店", "集合店",
]  # fmt: skip
FILLERS_Q = ["", "我的", "请问", "家里", "你好，", "怎么办，"]
QUERY_TAILS = ["", "怎么办", "怎么处理", "了", "吗", "，急"]


@dataclass(frozen=True)
class GenArticle:
    id: str
    title: str
    body: str
    category: str
    tags: list[str]


@dataclass(frozen=True)
class GenQuery:
    text: str
    answer: str
    kind: str


def _code(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHJKMNPQRSTUVWXZ") for _ in range(rng.randint(2, 3)))
    return f"{letters}{rng.randint(100, 9999)}{rng.choice(['', 'A', 'S', 'Pro', 'H'])}"


def _variants(rng: random.Random, domain: str, count: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        if domain == "网上购物":
            v = rng.choice(SHOP_A) + rng.choice(SHOP_A) + rng.choice(SHOP_B)
        else:
            v = _code(rng)
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def synonym_groups() -> list[list[str]]:
    groups = [[e, *syns] for d in DOMAINS.values() for e, syns in d.items()]
    groups += [[t, p] for issues in ISSUES.values() for t, p, syn, _b in issues if syn]
    return groups


def generate(n: int, seed: int, queries: int) -> tuple[list[GenArticle], list[GenQuery]]:
    """``n`` articles and ``queries`` queries whose answer is one of them."""
    rng = random.Random(seed)
    combos = [(d, e, i) for d, ents in DOMAINS.items() for e in ents for i in ISSUES[d]]
    per_combo = -(-n // len(combos))
    variants = {(d, e): _variants(rng, d, per_combo) for d, ents in DOMAINS.items() for e in ents}
    articles: list[GenArticle] = []
    facts: list[tuple[str, str, tuple[str, str, bool, str], str, str]] = []
    k = 0
    while len(articles) < n:
        d, e, issue = combos[k % len(combos)]
        variant = variants[(d, e)][k // len(combos)]
        k += 1
        word = rng.choice([e, e, e, *DOMAINS[d][e]])  # what the article calls the thing
        title_words, _para, _syn, body = issue
        sep = " " if variant[-1].isascii() else ""
        title = f"{variant}{sep}{word}{title_words}" + rng.choice(
            ["", "怎么办", "的处理方法", "说明"]
        )
        extra = rng.sample(FILLER, 2)
        domain_words = rng.sample(DOMAIN_WORDS[d].split(), 3)
        text = (
            f"{variant}{sep}{word}{title_words}时，{body}"
            f"{rng.choice(extra)}如涉及{domain_words[0]}或{domain_words[1]}问题，"
            f"请参考{domain_words[2]}相关说明。{extra[1]}"
        )
        aid = f"G{len(articles) + 1:06d}"
        articles.append(GenArticle(aid, title, text, f"{d}/{e}", [e, title_words]))
        facts.append((aid, e, issue, variant, word))
    chosen = rng.sample(facts, queries)
    out: list[GenQuery] = []
    for j, (aid, e, issue, variant, word) in enumerate(chosen):
        title_words, para, _syn, _body = issue
        kind = ("direct", "synonym", "paraphrase")[j % 3]
        thing = e
        if kind == "synonym":
            others = [t for t in [e, *DOMAINS_FLAT[e]] if t != word]
            thing = rng.choice(others)
        problem = para if kind == "paraphrase" else title_words
        if kind == "direct":
            text = f"{rng.choice(FILLERS_Q)}{variant} {problem}{thing}{rng.choice(QUERY_TAILS)}"
        else:
            # A model number and a Latin-lettered name (SIM卡, IPTV盒子) need a space between.
            gap = " " if thing[0].isascii() and variant[-1].isascii() else ""
            text = f"{rng.choice(FILLERS_Q)}{variant}{gap}{thing}{problem}{rng.choice(QUERY_TAILS)}"
        out.append(GenQuery(text, aid, kind))
    return articles, out


DOMAINS_FLAT = {e: syns for d in DOMAINS.values() for e, syns in d.items()}
