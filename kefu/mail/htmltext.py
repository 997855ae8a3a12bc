"""HTML email bodies: sanitised HTML for the agent view and plain text derived from HTML.
Pure: imports no Django."""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl",
        "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li",
        "ol", "p", "pre", "s", "small", "span", "strike", "strong", "sub", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "font": {"color"},
    "p": {"align"},
    "div": {"align"},
    "ol": {"start"},
}
LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")
# Images only from the message itself: a remote image is a tracking pixel waiting to fire.
DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp|bmp);base64,", re.I)
_DROPPED_WITH_CONTENT = {"script", "style", "head", "title", "template", "noscript", "iframe"}


@dataclass(frozen=True)
class CleanHtml:
    html: str
    remote_images: int  # remote (tracking) images removed
    cids: frozenset[str]  # content ids the HTML shows, without angle brackets


def normalise_cid(value: str) -> str:
    """A Content-ID or ``cid:`` URL as kefu stores it: no scheme, no angle brackets."""
    value = value.strip()
    if value[:4].lower() == "cid:":
        value = value[4:]
    return value.strip().strip("<>").strip()


def sanitize_html(html: str, *, known_cids: Container[str] = ()) -> CleanHtml:
    """Clean inbound HTML for display: basic formatting, links (rel=noopener), tables and
    images whose source is ``cid:`` (only those in ``known_cids``) or an inline ``data:``
    image. Scripts, styles, forms, event handlers and remote images go."""
    remote = 0
    shown: set[str] = set()

    def keep(tag: str, attribute: str, value: str) -> str | None:
        nonlocal remote
        if tag == "img" and attribute == "src":
            if value[:4].lower() == "cid:":
                cid = normalise_cid(value)
                if cid in known_cids:
                    shown.add(cid)
                    return f"cid:{cid}"
                return None
            if DATA_IMAGE.match(value):
                return value
            remote += 1
            return None
        if tag == "a" and attribute == "href":
            return value if value.strip().lower().startswith(LINK_SCHEMES) else None
        return value

    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=keep,
        url_schemes={"http", "https", "mailto", "tel", "cid", "data"},
        link_rel="noopener noreferrer nofollow",
    )
    return CleanHtml(cleaned, remote, frozenset(shown))


def rewrite_cids(html: str, url_for: Callable[[str], str | None]) -> str:
    """Point the ``cid:`` images of sanitised HTML at the URLs where the mail app serves the
    inline attachments; ``url_for(content_id)`` returning None drops that image source."""

    def replace(match: re.Match[str]) -> str:
        url = url_for(normalise_cid(match.group(2)))
        if url is None:
            return ""
        return f'{match.group(1)}"{escape(url, quote=True)}"'

    return re.sub(r'(\bsrc=)"(cid:[^"]*)"', replace, html)


_BLOCK_TAGS = {
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table",
    "tr", "ul",
}  # fmt: skip


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self.skip_depth += 1
        elif tag == "pre":
            self.pre_depth += 1
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _DROPPED_WITH_CONTENT:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            self.parts.append(data.replace("\xa0", " "))
        else:
            self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data).replace("\xa0", " "))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body: block elements and ``<br>`` become line breaks,
    entities are resolved, scripts and styles are dropped, runs of blank lines shrink to
    one."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [line.strip(" \t") for line in "".join(extractor.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")
