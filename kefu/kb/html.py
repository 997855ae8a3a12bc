"""An article's HTML made safe, and its plain text. Imports no Django.

nh3 (ammonia) keeps the formatting an article needs — headings, lists, tables, links and
pictures — and drops scripts, event handlers, styles, forms and frames. Links and pictures
may point at http(s), mailto and tel addresses or at paths on kefu (its own attachments);
``javascript:`` and ``data:`` URLs go."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

TAGS = frozenset(
    {
        "a", "b", "blockquote", "br", "code", "div", "em", "figcaption", "figure", "h2", "h3",
        "h4", "hr", "i", "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
        "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h2", "h3", "h4", "pre", "blockquote", "hr"})


def clean(html: str) -> str:
    """``html`` with only the allowed tags and attributes; links open without the page
    knowing where they came from."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )


def from_text(text: str) -> str:
    """Plain text (an import line without markup) as paragraphs of HTML."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join("<p>" + nh3.clean_text(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")
        if tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def to_text(html: str) -> str:
    """The readable text of (clean) HTML: paragraphs on their own lines, no markup."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def looks_like_html(text: str) -> bool:
    return bool(re.search(r"<[a-zA-Z/][^>]*>", text))
