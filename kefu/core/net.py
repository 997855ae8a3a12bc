"""The address a request came from, the one kefu records (audit log) and throttles logins
by (django-axes, through ``AXES_CLIENT_IP_CALLABLE``).

It is the connection's peer address, ``REMOTE_ADDR``. Behind a reverse proxy (nginx sets
``X-Forwarded-For``) the peer is the proxy; ``kefu serve`` then takes the client's address
from ``X-Forwarded-For`` — but only on connections from the addresses listed in
``KEFU_TRUSTED_PROXIES`` (uvicorn's proxy-header handling, ``forwarded_allow_ips``). From
any other peer the header is ignored, so nobody can choose the address their requests are
logged and throttled under by sending it."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest


def trusted_proxies(text: str) -> list[str]:
    """``KEFU_TRUSTED_PROXIES``: comma-separated addresses or networks (``10.0.0.5``,
    ``10.0.0.0/24``, ``::1``); empty trusts none. A value that is neither is ValueError."""
    out = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            ipaddress.ip_network(item)
            out.append(item)
    return out


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def address_in(address: str | None, networks: list[str]) -> bool:
    """Whether ``address`` lies in one of ``networks`` (as :func:`trusted_proxies` returns
    them). An empty or unparsable address is in none."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)
