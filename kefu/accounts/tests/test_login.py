from __future__ import annotations

from django.test import Client as HttpClient

from kefu.conftest import PASSWORD, Tenant


def _login(http: HttpClient, username: str, password: str) -> int:
    r = http.post("/login/", {"username": username, "password": password})
    return r.status_code


def test_repeated_failures_lock_the_login(tenant_a: Tenant) -> None:
    http = HttpClient(REMOTE_ADDR="10.1.2.3")
    name = tenant_a.agent.username
    assert _login(http, name, PASSWORD) == 302  # the right password works
    http.post("/logout/")
    for _ in range(4):
        assert _login(http, name, "wrong") == 200  # the form again, with an error
    assert _login(http, name, "wrong") == 429  # the fifth failure locks
    # Locked: even the right password is refused now, with the lockout page.
    r = http.post("/login/", {"username": name, "password": PASSWORD})
    assert r.status_code == 429 and "锁定" in r.content.decode()
    # Another user from the same address is not affected.
    assert _login(HttpClient(REMOTE_ADDR="10.1.2.3"), tenant_a.supervisor.username, PASSWORD) == 302


def test_each_role_lands_on_its_own_start_page(tenant_a: Tenant) -> None:
    """After login a department user follows the redirects to the escalations addressed to
    it; an agent to the queue."""
    for user, page in (
        (tenant_a.department_user, "/tickets/escalations/"),
        (tenant_a.agent, "/tickets/"),
    ):
        http = HttpClient()
        r = http.post("/login/", {"username": user.username, "password": PASSWORD}, follow=True)
        assert r.redirect_chain[-1][0] == page
