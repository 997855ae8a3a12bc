"""/chat/widget.js: the one script a client's website embeds, served to any site without a
login, cached for a short while and revalidated by its ETag."""

from __future__ import annotations

from django.test import Client as HttpClient

from kefu.chat import views_widget


def test_the_widget_script_is_served_to_any_site() -> None:
    assert views_widget.WIDGET_JS.exists(), "the widget is not built: run `make install`"
    r = HttpClient().get("/chat/widget.js", headers={"Origin": "https://www.shop-a.example"})
    assert r.status_code == 200
    assert r["Content-Type"] == "application/javascript; charset=utf-8"
    assert r["Access-Control-Allow-Origin"] == "*"
    assert r["Cache-Control"] == f"public, max-age={views_widget.SCRIPT_MAX_AGE}"
    body = r.content.decode()
    assert body == views_widget.WIDGET_JS.read_text()
    # What the page's one tag relies on: the socket path, the tag's data-key, the parts'
    # stable attributes, and nothing that evaluates strings as code.
    for needle in ("/ws/chat/widget/", "data-key", "data-kefu-from", "attachShadow", "rate-"):
        assert needle in body, needle
    assert "eval(" not in body and "new Function" not in body

    again = HttpClient().get("/chat/widget.js", headers={"If-None-Match": r["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_only_get_is_answered() -> None:
    assert HttpClient().post("/chat/widget.js").status_code == 405
