"""The portal's pages (thin: parse, call a service or selector, render). Every page is
under ``/p/<client code>/``; on a client's own host name the middleware binds the request
to that client, and another client's code there is a 404."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core.net import client_ip
from kefu.kb.services import kb_request_submitted
from kefu.portal import selectors, services, signin
from kefu.portal.forms import CodeForm, EmailForm, PhoneForm, ReplyForm, RequestForm
from kefu.portal.models import PortalSite, SignInMethod
from kefu.tickets import uploads
from kefu.tickets.attachments import attachment_response
from kefu.tickets.models import Customer, Status

LANG_KEY = "portal_lang"
LANGUAGES = ("zh-hans", "en")


def _customer_key(site: PortalSite) -> str:
    return f"portal:{site.client_id}:customer"


def _challenge_key(site: PortalSite) -> str:
    return f"portal:{site.client_id}:challenge"


View = Callable[..., HttpResponseBase]


def portal_page(view: View) -> View:
    """Resolve the site (404 if none, or another client's on a bound host), switch to the
    visitor's language and find the signed-in customer."""

    @wraps(view)
    def wrapper(request: HttpRequest, code: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        bound = getattr(request, "portal_code", None)
        if bound is not None and bound != code:
            raise Http404("another portal")
        site = selectors.site_for_code(code)
        language = request.session.get(LANG_KEY, "zh-hans")
        translation.activate(language if language in LANGUAGES else "zh-hans")
        request.LANGUAGE_CODE = translation.get_language()
        customer = selectors.customer_of(site, request.session.get(_customer_key(site)))
        return view(request, site, customer, *args, **kwargs)

    return wrapper


def signed_in(view: View) -> View:
    @wraps(view)
    def wrapper(
        request: HttpRequest,
        site: PortalSite,
        customer: Customer | None,
        *args: Any,
        **kwargs: Any,
    ) -> HttpResponseBase:
        if customer is None:
            return redirect("portal:login", site.client.code)
        return view(request, site, customer, *args, **kwargs)

    return portal_page(wrapper)


def _page(request: HttpRequest, site: PortalSite, template: str, **context: Any) -> HttpResponse:
    context.setdefault("customer", None)
    return render(request, template, {"site": site, "code": site.client.code, **context})


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


@require_GET
@portal_page
def home(request: HttpRequest, site: PortalSite, customer: Customer | None) -> HttpResponse:
    if customer is None:
        return redirect("portal:login", site.client.code)
    return redirect("portal:tickets", site.client.code)


@require_POST
@portal_page
def language(request: HttpRequest, site: PortalSite, customer: Customer | None) -> HttpResponse:
    chosen = request.POST.get("language", "")
    if chosen in LANGUAGES:
        request.session[LANG_KEY] = chosen
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("portal:home", args=[site.client.code])
    return redirect(target)


@require_http_methods(["GET", "POST"])
@portal_page
def login(request: HttpRequest, site: PortalSite, customer: Customer | None) -> HttpResponse:
    phone_form, email_form = PhoneForm(), EmailForm()
    errors: list[str] = []
    ip = client_ip(request)
    if request.method == "POST" and request.POST.get("method") == SignInMethod.SMS:
        phone_form = PhoneForm(request.POST)
        if phone_form.is_valid():
            try:
                challenge = signin.signin_code_send(
                    site=site, phone=phone_form.cleaned_data["phone"], ip=ip
                )
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                request.session[_challenge_key(site)] = challenge.pk
                messages.success(request, _("验证码已发送，请查收短信 / We sent you a code by SMS"))
                return redirect("portal:code", site.client.code)
    elif request.method == "POST" and request.POST.get("method") == SignInMethod.EMAIL:
        email_form = EmailForm(request.POST)
        if email_form.is_valid():
            base = request.build_absolute_uri(reverse("portal:link_base", args=[site.client.code]))
            try:
                signin.signin_link_send(
                    site=site, email=email_form.cleaned_data["email"], ip=ip, link_base=base
                )
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                return _page(request, site, "portal/link_sent.html")
    return _render_status(
        request,
        site,
        "portal/login.html",
        400 if errors else 200,
        phone_form=phone_form,
        email_form=email_form,
        errors=errors,
    )


def _render_status(
    request: HttpRequest, site: PortalSite, template: str, status: int, **context: Any
) -> HttpResponse:
    response = _page(request, site, template, **context)
    response.status_code = status
    return response


def _signed_in(request: HttpRequest, site: PortalSite, customer: Customer) -> HttpResponse:
    request.session.cycle_key()  # a new session id on signing in (no fixation)
    request.session[_customer_key(site)] = customer.pk
    request.session.pop(_challenge_key(site), None)
    return redirect("portal:tickets", site.client.code)


@require_http_methods(["GET", "POST"])
@portal_page
def code(request: HttpRequest, site: PortalSite, customer: Customer | None) -> HttpResponse:
    challenge_id = request.session.get(_challenge_key(site))
    if challenge_id is None:
        return redirect("portal:login", site.client.code)
    form = CodeForm(request.POST or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            found = signin.signin_prove(
                site=site,
                challenge_id=challenge_id,
                secret=form.cleaned_data["code"],
                method=SignInMethod.SMS,
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            return _signed_in(request, site, found)
    return _render_status(
        request, site, "portal/code.html", 400 if errors else 200, form=form, errors=errors
    )


@require_GET
@portal_page
def link_base(request: HttpRequest, site: PortalSite, customer: Customer | None) -> HttpResponse:
    return redirect("portal:login", site.client.code)


@require_http_methods(["GET", "POST"])
@portal_page
def link(
    request: HttpRequest, site: PortalSite, customer: Customer | None, challenge: int, secret: str
) -> HttpResponse:
    """GET asks for a click (mail scanners that open links must not use them up); POST
    signs in."""
    if request.method == "GET":
        return _page(request, site, "portal/link_confirm.html")
    try:
        found = signin.signin_prove(
            site=site, challenge_id=challenge, secret=secret, method=SignInMethod.EMAIL
        )
    except ValidationError as exc:
        return _render_status(request, site, "portal/link_confirm.html", 400, errors=_errors(exc))
    return _signed_in(request, site, found)


@require_POST
@portal_page
def logout(request: HttpRequest, site: PortalSite, customer: Customer | None) -> HttpResponse:
    request.session.pop(_customer_key(site), None)
    request.session.cycle_key()
    return redirect("portal:login", site.client.code)


@require_GET
@signed_in
def tickets(request: HttpRequest, site: PortalSite, customer: Customer) -> HttpResponse:
    rows = list(selectors.customer_tickets(customer)[:200])
    return _page(request, site, "portal/tickets.html", customer=customer, tickets=rows)


@require_http_methods(["GET", "POST"])
@signed_in
def new(request: HttpRequest, site: PortalSite, customer: Customer) -> HttpResponse:
    form = RequestForm(request.POST or None, initial={"submission": secrets.token_hex(16)})
    # Articles that may answer it appear as the customer types (kefu/static/kefu/kb-suggest.js).
    suggest = reverse("kb_public:suggest", args=[site.client.code])
    form.fields["description"].widget.attrs["data-kb-suggest"] = suggest
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.portal_request_submit(
                client=site.client,
                customer=customer,
                kind=data["kind"],
                description=data["description"],
                urgent=data["urgent"],
                urgent_reason=data["urgent_reason"],
                attachments=request.FILES.getlist("attachments"),
                submission=data["submission"],
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            # Articles this browser read before asking did not deflect the request.
            kb_request_submitted(client=site.client, session_key=request.session.session_key)
            messages.success(
                request,
                _("已提交，工单号 %(n)s / Submitted as %(n)s") % {"n": ticket.number},
            )
            return redirect("portal:ticket", site.client.code, ticket.number)
    return _render_status(
        request,
        site,
        "portal/new.html",
        400 if errors else 200,
        customer=customer,
        form=form,
        errors=errors,
        max_bytes=uploads_limit(),
    )


def uploads_limit() -> int:
    return int(settings.KEFU_MAX_ATTACHMENT_BYTES)


@require_http_methods(["GET", "POST"])
@signed_in
def ticket(request: HttpRequest, site: PortalSite, customer: Customer, number: str) -> HttpResponse:
    found = selectors.customer_ticket_or_404(customer, number)
    form = ReplyForm(request.POST or None, initial={"submission": secrets.token_hex(16)})
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            services.portal_reply(
                customer=customer,
                ticket=found,
                body=form.cleaned_data["body"],
                attachments=request.FILES.getlist("attachments"),
                submission=form.cleaned_data["submission"],
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            return redirect("portal:ticket", site.client.code, found.number)
    return _render_status(
        request,
        site,
        "portal/ticket.html",
        400 if errors else 200,
        customer=customer,
        ticket=found,
        conversation=selectors.public_messages(site, found),
        form=form,
        errors=errors,
        resolved=found.status == Status.RESOLVED,
        closed=found.status == Status.CLOSED,
    )


@require_POST
@signed_in
def close(request: HttpRequest, site: PortalSite, customer: Customer, number: str) -> HttpResponse:
    found = selectors.customer_ticket_or_404(customer, number)
    services.portal_close(customer=customer, ticket=found)
    messages.success(request, _("工单已关闭 / The ticket is closed"))
    return redirect("portal:ticket", site.client.code, found.number)


@require_GET
@signed_in
def attachment(
    request: HttpRequest, site: PortalSite, customer: Customer, number: str, attachment_id: int
) -> HttpResponseBase:
    found = selectors.customer_ticket_or_404(customer, number)
    return attachment_response(selectors.customer_attachment_or_404(customer, found, attachment_id))


@require_GET
@portal_page
def logo(request: HttpRequest, site: PortalSite, customer: Customer | None) -> HttpResponseBase:
    """The client's logo, served only as the picture it is (sniffed, like attachments)."""
    if not site.logo:
        raise Http404("no logo")
    with site.logo.open("rb") as fh:
        head = fh.read(uploads.HEAD_BYTES)
    verdict = uploads.check_upload(
        head=head, filename=site.logo.name, size=site.logo.size, max_bytes=uploads_limit()
    )
    if not verdict.ok or not verdict.content_type.startswith("image/"):
        raise Http404("not a picture")
    response = FileResponse(site.logo.open("rb"), content_type=verdict.content_type)
    response["Cache-Control"] = "public, max-age=3600"
    return response
