"""Agent workspace pages. Thin: parse, call one service or selector, render.

A view renders the whole page, or only the fragment HTMX asked for (``HX-Target``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kefu.accounts.models import User
from kefu.accounts.roles import Perm
from kefu.contracts.selectors import clients_visible_to
from kefu.core.params import int_param
from kefu.core.tenancy import get_visible_or_404
from kefu.privacy import reveal
from kefu.sla import selectors as sla_selectors
from kefu.tickets import (
    bulk,
    customers,
    delivery,
    forms,
    intake,
    queue_views,
    selectors,
    services,
)
from kefu.tickets.attachments import attachment_response
from kefu.tickets.channels import channel_adapter, transport_problem
from kefu.tickets.models import (
    Attachment,
    Channel,
    Customer,
    CustomerIdentifier,
    Kind,
    Message,
    Priority,
    SavedView,
    Status,
    Ticket,
)
from kefu.tickets.validation import MAX_BODY


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _filters(request: HttpRequest) -> selectors.TicketFilters:
    return queue_views.filters_from(request.GET)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if _user(request).has_kefu_perm(Perm.ESCALATION_ANSWER) and not _user(request).is_provider:
        return redirect("tickets:escalations")
    return redirect("tickets:queue")


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The queue: its views with live counts, the filtered list with its total, a page at a
    time (keyset, so a deep page costs what the first does)."""
    user = _user(request)
    filters = _filters(request)
    sort = request.GET.get("sort", "")
    params = request.GET.copy()
    for key in ("after", "before", "p"):
        params.pop(key, None)
    base = selectors.ticket_list(user=user, filters=filters)
    qs = selectors.with_undelivered_flag(selectors.with_promise_due(base))
    page = max(1, min(int(request.GET["p"]), 10**6)) if request.GET.get("p", "").isdigit() else 1
    if sort == "due":
        rows, cursor = selectors.due_page(qs, after=request.GET.get("after", ""), size=PAGE_SIZE)
        next_query: dict[str, object] | None = {"after": cursor} if cursor else None
    else:
        before_raw = request.GET.get("before", "")
        before = int(before_raw) if before_raw.isdigit() else None
        rows, next_before = selectors.keyset_page(qs, before=before, size=PAGE_SIZE)
        next_query = {"before": next_before} if next_before else None
    if page == 1 and (request.GET.get("after") or request.GET.get("before")):
        page = 2  # a cursor without a page number: at least the second page
    views = queue_views.views_for(user)
    counts = queue_views.view_counts(user, views)
    current = queue_views.clean_query(request.GET)
    total = base.count()
    sort_due = params.copy()
    sort_due["sort"] = "due"
    sort_new = params.copy()
    sort_new.pop("sort", None)
    context = {
        "tickets": rows,
        "filters": filters,
        "sort": sort,
        "sort_due_query": sort_due.urlencode(),
        "sort_new_query": sort_new.urlencode(),
        "next_url": (
            f"?{params.urlencode()}&{urlencode({**next_query, 'p': page + 1})}"
            if next_query
            else ""
        ),
        "first_url": f"?{params.urlencode()}" if page > 1 else "",
        "total": total,
        "first_row": (page - 1) * PAGE_SIZE + 1 if rows else 0,
        "last_row": (page - 1) * PAGE_SIZE + len(rows),
        "views": [(v, counts[v.key]) for v in views],
        "current_view": next((v.key for v in views if v.query == current), ""),
        "current_query": current,
        "can_save_view": user.has_kefu_perm(Perm.TICKET_REPLY),
        "can_bulk": user.has_kefu_perm(Perm.TICKET_ASSIGN),
        "bulk_agents": (
            bulk.bulk_assignable_agents(user) if user.has_kefu_perm(Perm.TICKET_ASSIGN) else []
        ),
        "clients": clients_visible_to(user),
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "kinds": Kind.choices,
        "channels": Channel.choices,
    }
    if request.headers.get("HX-Target") == "queue-results":
        return render(request, "tickets/_queue_results.html", context)
    return render(request, "tickets/queue.html", context)


PAGE_SIZE = 50


@login_required
@require_POST
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """Apply one change to the tickets ticked on the queue page, then go back to it."""
    user = _user(request)
    back = f"{reverse('tickets:queue')}?{QueryDict(request.POST.get('back', '')[:500]).urlencode()}"
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    assignee_raw = request.POST.get("assignee", "")
    assignee = None
    if assignee_raw.isdigit():
        assignee = next(
            (a for a in bulk.bulk_assignable_agents(user) if a.pk == int(assignee_raw)), None
        )
        if assignee is None:
            raise PermissionDenied
    change = bulk.BulkChange(
        assignee=assignee,
        unassign=assignee_raw == bulk.UNASSIGN,
        status=request.POST.get("status") or None,
        priority=request.POST.get("priority") or None,
        add_tags=[
            t.strip()
            for t in request.POST.get("tags", "").replace("，", ",").split(",")
            if t.strip()
        ],
    )
    if not ids:
        messages.error(request, _("请先勾选工单"))
        return redirect(back)
    try:
        result = bulk.tickets_bulk_update(actor=user, ticket_ids=ids, change=change)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return redirect(back)
    messages.success(request, _("已批量修改 %(n)s 张工单。") % {"n": len(result.changed)})
    for number, why in result.refused[:20]:
        messages.error(request, f"{number}: {why}")
    if len(result.refused) > 20:
        messages.error(request, _("另有 %(n)s 张未修改。") % {"n": len(result.refused) - 20})
    return redirect(back)


@login_required
@require_POST
def view_save(request: HttpRequest) -> HttpResponse:
    """Save the queue's current filters under a name (``query`` is the page's query)."""
    user = _user(request)
    query = QueryDict(request.POST.get("query", "")[:500])
    try:
        view = queue_views.saved_view_create(
            user=user,
            name=request.POST.get("name", ""),
            query=query,
            shared=request.POST.get("shared") == "1",
        )
        messages.success(request, _("已保存视图“%(name)s”。") % {"name": view.name})
        return redirect(f"{reverse('tickets:queue')}?{view.query}")
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    return redirect(f"{reverse('tickets:queue')}?{query.urlencode()}")


@login_required
@require_POST
def view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    user = _user(request)
    view = get_object_or_404(SavedView, pk=view_id, owner=user)
    queue_views.saved_view_delete(user=user, view=view)
    messages.success(request, _("已删除视图“%(name)s”。") % {"name": view.name})
    return redirect("tickets:queue")


_TICKET_PARTS = {
    "ticket-messages": "tickets/_messages.html",
    "ticket-head": "tickets/_ticket_head.html",
}


@login_required
@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    ticket = selectors.access_ticket(user, pk)
    can = {p.name.lower(): user.has_kefu_perm(p) for p in Perm}
    # A live page (kefu/static/kefu/live.js) fetches the part an event says has changed.
    part = _TICKET_PARTS.get(request.headers.get("HX-Target", ""))
    if part == "tickets/_messages.html":
        conversation = selectors.ticket_conversation(user=user, ticket=ticket)
        return render(request, part, {"ticket": ticket, "conversation": conversation, "can": can})
    if part is not None:
        return render(request, part, {"ticket": ticket, "can": can})
    context: dict[str, Any] = {
        "ticket": ticket,
        "conversation": selectors.ticket_conversation(user=user, ticket=ticket),
        "history": selectors.ticket_history(user=user, ticket=ticket),
        "escalations": selectors.ticket_escalations(user=user, ticket=ticket),
        "clocks": sla_selectors.ticket_clocks(user=user, ticket=ticket),
        "other_tickets": selectors.customer_other_tickets(user=user, ticket=ticket),
        "identifiers": (
            selectors.customer_identifiers(user=user, customer=ticket.customer)
            if ticket.customer
            else []
        ),
        "can": can,
    }
    if user.has_kefu_perm(Perm.TICKET_REPLY):
        context.update(
            reply_form=_reply_form(ticket)(initial=_draft(request, ticket.pk, _reply_form(ticket))),
            transport_problem=transport_problem(ticket),
            note_form=forms.NoteForm(initial=_draft(request, ticket.pk, forms.NoteForm)),
            status_form=forms.StatusForm(initial={"status": ticket.status}),
            assign_form=forms.AssignForm(
                initial={"assignee": ticket.assignee_id},
                agents=selectors.assignable_agents(ticket=ticket),
            ),
            update_form=forms.UpdateForm(
                initial={
                    "kind": ticket.kind,
                    "priority": ticket.priority,
                    "tags": ", ".join(t.name for t in ticket.tags.all()),
                }
            ),
            escalate_form=forms.EscalateForm(client_id=ticket.client_id),
        )
    if user.has_kefu_perm(Perm.ESCALATION_ANSWER):
        context["answer_form"] = forms.AnswerForm()
    return render(request, "tickets/ticket.html", context)


def _act(
    request: HttpRequest,
    pk: int,
    form_class: Callable[..., Any],
    perm: Perm,
    apply: Callable[[Any, Any, User], object],
    said: Callable[[Ticket, Any], str],
    **form_kwargs: Any,
) -> HttpResponse:
    """Validate one action form and apply it; ``said`` tells the user what happened (from
    the ticket after the change and the form's data); errors come back as page messages."""
    user = _user(request)
    ticket = selectors.access_ticket(user, pk, perm)
    form = form_class(request.POST, **form_kwargs)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}")
        _keep_draft(request, ticket.pk, form)
    else:
        try:
            apply(ticket, form.cleaned_data, user)
            messages.success(request, said(ticket, form.cleaned_data))
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
            _keep_draft(request, ticket.pk, form)
    return redirect(reverse("tickets:detail", args=[ticket.pk]))


def _draft_key(pk: int, form_class: type[Any]) -> str:
    return f"kefu:draft:{pk}:{form_class.__name__}"


def _keep_draft(request: HttpRequest, pk: int, form: Any) -> None:
    """A refused reply or note (a refused attachment, say) keeps the text the user typed:
    the page shows it again in the form, once."""
    body = request.POST.get("body", "")
    if body.strip() and len(body) <= MAX_BODY and "body" in form.fields:
        request.session[_draft_key(pk, type(form))] = body


def _draft(request: HttpRequest, pk: int, form_class: type[Any]) -> dict[str, str]:
    body = request.session.pop(_draft_key(pk, form_class), "")
    return {"body": body} if body else {}


def _reply_form(ticket: Ticket) -> type[Any]:
    """The reply form of the ticket's channel (a phone ticket logs a call), else text."""
    adapter = channel_adapter(ticket.channel)
    return (adapter.reply_form if adapter else None) or forms.ReplyForm


@login_required
@require_POST
def ticket_reply(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.access_ticket(_user(request), pk, Perm.TICKET_REPLY)
    return _act(
        request,
        pk,
        _reply_form(ticket),
        Perm.TICKET_REPLY,
        lambda t, d, u: services.ticket_reply(
            ticket=t,
            actor=u,
            body=d["body"],
            new_status=d["new_status"] or None,
            attachments=request.FILES.getlist("attachments"),
            channel_data={k: v for k, v in d.items() if k not in ("body", "new_status")},
        ),
        _said_reply,
    )


def _said_reply(ticket: Ticket, data: Any) -> str:
    if data.get("new_status"):
        return _("已回复并设为“%(status)s”。") % {"status": ticket.get_status_display()}
    return _("已回复，送达状态见对话。")


@login_required
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """Send a failed reply again."""
    user = _user(request)
    found = selectors.access_delivery(user, delivery_id, Perm.TICKET_REPLY)
    try:
        delivery.delivery_retry(delivery=found, actor=user)
        messages.success(request, _("已重新排队发送。"))
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    return redirect(reverse("tickets:detail", args=[found.ticket_id]))


@login_required
@require_POST
def ticket_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        forms.NoteForm,
        Perm.TICKET_NOTE,
        lambda t, d, u: services.ticket_add_note(
            ticket=t,
            actor=u,
            body=d["body"],
            attachments=request.FILES.getlist("attachments"),
        ),
        lambda t, d: _("已添加内部备注（客户不可见）。"),
    )


@login_required
@require_POST
def ticket_status(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        forms.StatusForm,
        Perm.TICKET_STATUS,
        lambda t, d, u: services.ticket_set_status(ticket=t, actor=u, status=d["status"]),
        lambda t, d: _("状态已改为“%(status)s”。") % {"status": t.get_status_display()},
    )


@login_required
@require_POST
def ticket_assign(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.access_ticket(_user(request), pk, Perm.TICKET_ASSIGN)
    return _act(
        request,
        pk,
        forms.AssignForm,
        Perm.TICKET_ASSIGN,
        lambda t, d, u: services.ticket_assign(ticket=t, actor=u, assignee=d["assignee"]),
        _said_assign,
        agents=selectors.assignable_agents(ticket=ticket),
    )


def _said_assign(ticket: Ticket, data: Any) -> str:
    if data["assignee"] is None:
        return _("已取消分配。")
    return _("已分配给 %(name)s。") % {"name": data["assignee"]}


@login_required
@require_POST
def ticket_update(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        forms.UpdateForm,
        Perm.TICKET_EDIT,
        lambda t, d, u: services.ticket_update(
            ticket=t,
            actor=u,
            kind=d["kind"],
            priority=d["priority"],
            tags=[s for s in d["tags"].replace("，", ",").split(",") if s.strip()],
        ),
        lambda t, d: _("已更新类型、优先级和标签。"),
    )


@login_required
@require_POST
def ticket_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = selectors.access_ticket(_user(request), pk, Perm.TICKET_ESCALATE)
    return _act(
        request,
        pk,
        forms.EscalateForm,
        Perm.TICKET_ESCALATE,
        lambda t, d, u: services.ticket_escalate(
            ticket=t,
            actor=u,
            department=d["department"],
            reason=d["reason"],
            expected_by=d["expected_by"],
        ),
        lambda t, d: _("已升级到%(department)s，等待其答复。") % {"department": d["department"]},
        client_id=ticket.client_id,
    )


@login_required
@require_POST
def identifier_verify(request: HttpRequest, pk: int, identifier_id: int) -> HttpResponse:
    """Confirm one of the ticket's customer's identifiers that an agent typed."""
    user = _user(request)
    ticket = selectors.access_ticket(user, pk, Perm.CUSTOMER_EDIT)
    identifier = get_visible_or_404(
        CustomerIdentifier, user, pk=identifier_id, customer_id=ticket.customer_id or 0
    )
    try:
        customers.customer_identifier_verify(identifier=identifier, actor=user, request=request)
        messages.success(request, _("已确认，今后可凭此识别该客户。"))
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    return redirect(reverse("tickets:detail", args=[ticket.pk]))


@login_required
@require_POST
@never_cache
def ticket_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal one customer field (``field`` = name / phones / emails) or one message's text
    (``field`` = message, ``message`` = its id), with a ``reason``; audited. HTMX swaps the
    returned fragment in place of the masked value."""
    user = _user(request)
    ticket = selectors.access_ticket(user, pk)
    field = request.POST.get("field", "")
    context: dict[str, Any] = {"ticket": ticket, "field": field, "values": [], "error": ""}
    try:
        if field == "message":
            message = get_visible_or_404(
                Message,
                user,
                pk=int_param(request.POST.get("message", ""), name="message"),
                ticket=ticket,
            )
            context["message"] = message
            context["values"] = [
                reveal.message_reveal(
                    user=user,
                    message=message,
                    reason=request.POST.get("reason", ""),
                    request=request,
                )
            ]
        else:
            if ticket.customer is None:
                raise Http404("no customer")
            context["values"] = reveal.customer_reveal(
                user=user,
                customer=ticket.customer,
                field=field,
                reason=request.POST.get("reason", ""),
                request=request,
            )
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
    if request.headers.get("HX-Request"):
        return render(request, "tickets/_revealed.html", context)
    return render(request, "tickets/revealed.html", context)


@login_required
@require_POST
def escalation_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The department's turn, by the button pressed: answer (with files), ask the provider
    for information, or return the escalation with a reason."""
    user = _user(request)
    escalation = selectors.access_escalation(user, pk)
    if not user.has_kefu_perm(Perm.ESCALATION_ANSWER):
        raise PermissionDenied
    form = forms.AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请先填写内容"))
        return redirect(reverse("tickets:detail", args=[escalation.ticket_id]))
    text = form.cleaned_data["answer"]
    action = request.POST.get("action", "answer")
    try:
        if action == "ask":
            services.escalation_ask_info(escalation=escalation, actor=user, question=text)
            messages.success(request, _("已请客服补充信息，升级仍在处理中，承诺时间不变。"))
        elif action == "return":
            services.escalation_return(escalation=escalation, actor=user, reason=text)
            messages.success(request, _("已退回升级，工单交回客服处理。"))
        else:
            services.escalation_answer(
                escalation=escalation,
                actor=user,
                answer=text,
                attachments=request.FILES.getlist("attachments"),
            )
            messages.success(request, _("答复已提交，工单已退回客服处理。"))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect(reverse("tickets:detail", args=[escalation.ticket_id]))


@login_required
@require_POST
def escalation_info(request: HttpRequest, pk: int) -> HttpResponse:
    """The provider gives the department the information it asked for."""
    user = _user(request)
    escalation = selectors.access_escalation(user, pk)
    ticket = selectors.access_ticket(user, escalation.ticket_id, Perm.TICKET_NOTE)
    try:
        services.escalation_give_info(
            escalation=escalation,
            actor=user,
            info=request.POST.get("info", ""),
            attachments=request.FILES.getlist("attachments"),
        )
        messages.success(request, _("补充信息已发给甲方部门。"))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect(reverse("tickets:detail", args=[ticket.pk]))


@login_required
@require_GET
def escalations(request: HttpRequest) -> HttpResponse:
    rows = selectors.open_escalations_for(user=_user(request))[:200]
    return render(request, "tickets/escalations.html", {"escalations": rows})


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.has_kefu_perm(Perm.OVERVIEW_VIEW):
        raise PermissionDenied
    return render(request, "tickets/overview.html", {"rows": selectors.overview(user=user)})


@login_required
def ticket_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.has_kefu_perm(Perm.TICKET_CREATE):
        raise PermissionDenied
    form = forms.NewTicketForm(request.POST or None, clients=clients_visible_to(user))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            customer = None
            if d["customer_name"] or d["customer_phone"] or d["customer_email"]:
                # Typed by the agent: kept unverified, so it finds nobody until confirmed.
                customer = services.customer_find_or_create(
                    client=d["client"],
                    data=services.CustomerData(
                        name=d["customer_name"],
                        phone=d["customer_phone"],
                        email=d["customer_email"],
                        verified=False,
                    ),
                )
            ticket = intake.ticket_intake(
                client=d["client"],
                channel=d["channel"],
                message=intake.Incoming(text=d["body"]),
                subject=d["subject"],
                kind=d["kind"],
                priority=d["priority"],
                customer=customer,
                actor=user,
            ).ticket
            if customer is not None:
                _warn_open_tickets(request, user, customer, exclude=ticket.pk)
            return redirect(reverse("tickets:detail", args=[ticket.pk]))
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
    return render(request, "tickets/new.html", {"form": form})


def _open_tickets_text(tickets: list[Ticket]) -> str:
    numbers = "、".join(t.number for t in tickets)
    return ngettext(
        "该客户还有 %(n)d 张未解决的工单：%(numbers)s",
        "该客户还有 %(n)d 张未解决的工单：%(numbers)s",
        len(tickets),
    ) % {"n": len(tickets), "numbers": numbers}


def _warn_open_tickets(
    request: HttpRequest, user: User, customer: Customer, exclude: int | None = None
) -> None:
    found = selectors.customer_open_tickets(user=user, customer=customer, exclude=exclude)
    if found:
        messages.warning(request, _open_tickets_text(found))


@login_required
@require_GET
def ticket_new_check(request: HttpRequest) -> HttpResponse:
    """While the agent types a new ticket's customer details (HTMX): the open tickets of the
    customer those details find, before the ticket is created."""
    user = _user(request)
    if not user.has_kefu_perm(Perm.TICKET_CREATE):
        raise PermissionDenied
    g = request.GET
    client_id = int_param(g.get("client", ""), name="client")
    client = clients_visible_to(user).filter(pk=client_id).first() if client_id else None
    found: list[Ticket] = []
    if client is not None:
        customer = services.customer_find(
            client=client,
            data=services.CustomerData(
                phone=g.get("customer_phone", "")[:40], email=g.get("customer_email", "")[:254]
            ),
        )
        if customer is not None:
            found = selectors.customer_open_tickets(user=user, customer=customer)
    return render(
        request,
        "tickets/_open_tickets_warning.html",
        {"open_tickets": found, "text": _open_tickets_text(found) if found else ""},
    )


@login_required
def customer_merge(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Merge two records of one customer: pick the other record (by its number, phone or
    email), confirm which one is kept, merge. Supervisors and provider admins."""
    user = _user(request)
    if not user.has_kefu_perm(Perm.CUSTOMER_MERGE):
        raise PermissionDenied
    customer = selectors.access_customer(user, customer_id)
    back_to = request.POST.get("ticket") or request.GET.get("ticket") or ""
    ticket_id = str(int_param(back_to, name="ticket") or "")
    if request.method == "POST":
        other_id = int_param(request.POST.get("other", ""), name="other")
        other = selectors.access_customer(user, other_id or 0)
        keep = request.POST.get("keep", "")
        source, target = (other, customer) if keep == str(customer.pk) else (customer, other)
        try:
            customers.customer_merge(
                source=source,
                target=target,
                actor=user,
                reason=request.POST.get("reason", "")[:500],
                request=request,
            )
        except ValidationError as exc:
            for text in exc.messages:
                messages.error(request, text)
            return redirect(reverse("tickets:customer_merge", args=[customer.pk]))
        messages.success(
            request,
            _("已将客户 #%(source)d 合并至 #%(target)d。")
            % {"source": source.pk, "target": target.pk},
        )
        if ticket_id.isdigit():
            return redirect(reverse("tickets:detail", args=[int(ticket_id)]))
        return redirect(reverse("tickets:customer_merge", args=[target.pk]))
    term = request.GET.get("other", "")[:254].strip()
    candidates = (
        selectors.customer_merge_candidates(user=user, customer=customer, term=term) if term else []
    )
    summaries = selectors.customer_summaries(user=user, customers=[customer, *candidates])
    return render(
        request,
        "tickets/customer_merge.html",
        {
            "customer": customer,
            "term": term,
            "own": summaries[customer.pk],
            "rows": [(c, summaries[c.pk]) for c in candidates],
            "ticket_id": ticket_id if ticket_id.isdigit() else "",
        },
    )


@login_required
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    attachment = get_visible_or_404(Attachment, _user(request), pk=attachment_id)
    return attachment_response(attachment)
