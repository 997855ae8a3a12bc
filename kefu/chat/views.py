"""The agent's chat console and the supervisor's live chat view.

The console page is a shell that kefu/static/kefu/chat-console.js fills over the agent
socket (``ws/chat/agent/``: offers, transcripts, typing, read state); what a page shows
about a chat beyond its transcript (the customer's other tickets, the wrap-up and transfer
forms) comes from :func:`console_conversation` as HTML, scoped and masked as on any page.
The live view is a table that kefu/static/kefu/chat-live.js fetches again whenever the
supervisor socket (kefu/chat/live_consumers.py) hears of a change."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.accounts.models import Presence, PresenceState, Team, User
from kefu.accounts.roles import Perm
from kefu.chat import board, routing, services
from kefu.chat.forms import TransferForm, WrapUpForm
from kefu.chat.models import ChatWidget, Conversation
from kefu.chat.selectors import agents_for, origin_allowed
from kefu.contracts.selectors import clients_visible_to
from kefu.tickets.selectors import customer_other_tickets

CONSOLE_STATES = (PresenceState.ONLINE, PresenceState.AWAY, PresenceState.OFFLINE)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _agent(request: HttpRequest) -> User:
    user = _user(request)
    if not board.may_handle_chats(user):
        raise PermissionDenied(_("你没有执行此操作的权限。"))
    return user


def _supervisor(request: HttpRequest) -> User:
    user = _user(request)
    if not board.may_supervise_chats(user):
        raise PermissionDenied(_("你没有执行此操作的权限。"))
    return user


def _fragment(request: HttpRequest) -> bool:
    """The console's script asks for HTML to put in place; a plain form post is answered
    with a redirect, as elsewhere."""
    return request.headers.get("HX-Request") == "true"


def _words() -> dict[str, str]:
    """What the console's script writes, in the page's language."""
    return {
        "connecting": _("连接中… / Connecting…"),
        "connected": _("已连接 / Connected"),
        "reconnecting": _("连接中断，正在重连… / Connection lost, reconnecting…"),
        "logged_out": _("已退出登录，请刷新页面 / Logged out: reload the page"),
        "offer": _("新会话 / New chat"),
        "offer_transfer": _("转接来的会话 / Transferred chat"),
        "queued_for": _("已排队 {t} / Waiting {t}"),
        "left": _("剩 {s} 秒 / {s} s left"),
        "expired": _("已超时 / Timed out"),
        "accept": _("接受 / Accept"),
        "decline": _("拒绝 / Decline"),
        "send": _("发送 / Send"),
        "end": _("结束会话 / End chat"),
        "close": _("关闭 / Close"),
        "take_over": _("接管 / Take over"),
        "listening": _("旁听中（客户和坐席看不到你） / Listening (nobody in the chat is told)"),
        "placeholder": _("回复（Enter 发送）/ Reply (Enter sends)"),
        "sending": _("发送中 / Sending"),
        "delivered": _("已送达 / Delivered"),
        "read": _("已读 / Read"),
        "failed": _("未发出 / Not sent"),
        "typing": _("客户正在输入… / The customer is typing…"),
        "status_waiting": _("排队中 / Waiting"),
        "status_active": _("会话中 / In progress"),
        "status_ended": _("已结束 / Ended"),
        "status_message": _("已转留言 / Left a message"),
        "ended_customer": _("客户结束了会话 / The customer ended the chat"),
        "ended_agent": _("会话已结束 / The chat was ended"),
        "ended_system": _("会话已由系统结束 / The chat was ended by the system"),
        "joined": _("{name} 已接入 / {name} joined"),
        "transferred": _("会话已转接，已不由你接待 / Transferred: no longer yours"),
        "taken_over": _("主管已接管此会话 / A supervisor took this chat over"),
        "rated": _("客户评分 {score}/5 / Rated {score}/5"),
        "left_message": _("客户等待超时，已转为留言 / The customer left a message"),
        "no_chats": _("暂无会话 / No chats"),
        "attachment": _("附件 / Attachment"),
    }


@login_required
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    user = _agent(request)
    presence = Presence.objects.filter(user=user).first()
    listen = request.GET.get("listen", "")
    labels = dict(PresenceState.choices)
    return render(
        request,
        "chat/console.html",
        {
            "presence_state": presence.state if presence else PresenceState.OFFLINE,
            "max_chats": presence.max_chats if presence else board.DEFAULT_MAX_CHATS,
            "states": [(s.value, labels[s]) for s in CONSOLE_STATES],
            "clients": {str(c.pk): c.name for c in clients_visible_to(user)},
            "words": _words(),
            "wrap_ups": board.console_wrap_ups(user=user),
            "listen": int(listen) if listen.isdigit() and len(listen) < 12 else "",
            "can_supervise": board.may_supervise_chats(user),
        },
    )


def _side_context(user: User, conversation: Conversation) -> dict[str, Any]:
    ticket = conversation.ticket
    handling = conversation.agent_id == user.pk
    context: dict[str, Any] = {
        "conversation": conversation,
        "ticket": ticket,
        "handling": handling,
        "other_tickets": customer_other_tickets(user=user, ticket=ticket) if ticket else [],
        "notes": board.chat_notes(user=user, conversation=conversation),
        "can_customer_page": user.has_kefu_perm(Perm.PRIVACY_MANAGE),
    }
    if handling and ticket is not None:
        context["wrapup_form"] = WrapUpForm(
            initial={
                "kind": ticket.kind,
                "tags": ", ".join(ticket.tags.values_list("name", flat=True)),
                "resolve": "1",
            },
            auto_id=f"wrapup-{conversation.pk}-%s",
        )
        context["transfer_form"] = TransferForm(
            targets=board.transfer_targets(user=user, conversation=conversation),
            auto_id=f"transfer-{conversation.pk}-%s",
        )
    return context


@login_required
@require_GET
def console_conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """What the console shows beside a chat's transcript: the customer and their other
    tickets from every channel, the transfer form and the wrap-up form."""
    user = _agent(request)
    conversation = board.access_conversation(user, conversation_id)
    return render(request, "chat/_conversation.html", _side_context(user, conversation))


def _answer(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    ok: bool,
    message: str = "",
) -> HttpResponse:
    if _fragment(request):
        return render(request, template, context, status=200 if ok else 400)
    if ok:
        messages.success(request, message)
    else:
        for form_errors in context["form"].errors.values():
            for text in form_errors:
                messages.error(request, text)
    return redirect(reverse("chat:console"))


@login_required
@require_POST
def conversation_wrap_up(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The wrap-up after a chat: the ticket's kind and tags, resolved or kept open, and an
    internal note (ends the chat first if it is still going)."""
    user = _agent(request)
    conversation = board.access_conversation(user, conversation_id)
    form = WrapUpForm(request.POST, auto_id=f"wrapup-{conversation.pk}-%s")
    context: dict[str, Any] = {"conversation": conversation, "form": form, "wrapup_form": form}
    if form.is_valid():
        try:
            ticket = services.conversation_wrap_up(
                conversation=conversation,
                actor=user,
                kind=form.cleaned_data["kind"],
                tags=form.tag_list(),
                resolve=form.cleaned_data["resolve"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            for text in exc.messages:
                form.add_error(None, text)
        else:
            context["ticket"] = ticket
            return _answer(
                request,
                "chat/_wrapped.html",
                context,
                ok=True,
                message=_("已小结：%(n)s / Wrapped up: %(n)s") % {"n": ticket.number},
            )
    return _answer(request, "chat/_wrapup.html", context, ok=False)


def _transfer_to(
    user: User, conversation: Conversation, kind: str, pk: int
) -> tuple[User | None, Team | None]:
    if kind == "agent":
        agent = agents_for(conversation.client_id).filter(pk=pk).first()
        if agent is None:
            raise ValidationError(_("该坐席不负责这个甲方 / That agent does not serve this client"))
        return agent, None
    team = Team.objects.visible_to(user).filter(pk=pk, client_id=conversation.client_id).first()
    if team is None:
        raise ValidationError(_("坐席组不属于该甲方 / The team belongs to another client"))
    return None, team


@login_required
@require_POST
def conversation_transfer(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Hand the chat to another agent or to a team, with a note for whoever takes it."""
    user = _agent(request)
    conversation = board.access_conversation(user, conversation_id)
    targets = board.transfer_targets(user=user, conversation=conversation)
    form = TransferForm(request.POST, targets=targets, auto_id=f"transfer-{conversation.pk}-%s")
    context: dict[str, Any] = {"conversation": conversation, "form": form, "transfer_form": form}
    if form.is_valid():
        try:
            to_agent, to_team = _transfer_to(user, conversation, *form.target())
            routing.conversation_transfer(
                conversation=conversation,
                actor=user,
                to_agent=to_agent,
                to_team=to_team,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            for text in exc.messages:
                form.add_error(None, text)
        else:
            context["target"] = to_agent or to_team
            return _answer(
                request,
                "chat/_transferred.html",
                context,
                ok=True,
                message=_("已转接给 %(t)s / Transferred to %(t)s") % {"t": context["target"]},
            )
    return _answer(request, "chat/_transfer.html", context, ok=False)


def _live(request: HttpRequest, code: str | None) -> HttpResponse:
    user = _supervisor(request)
    clients = board.live_clients(user=user, code=code)
    context = {
        "boards": [board.client_board(c) for c in clients],
        "code": code,
        "all_clients": clients_visible_to(user).order_by("code") if code else None,
        "socket": f"/ws/chat/clients/{code}/live/" if code else "/ws/chat/live/",
    }
    if request.headers.get("HX-Target") == "chat-board":
        return render(request, "chat/_board.html", context)
    return render(request, "chat/live.html", context)


@login_required
@require_GET
def live(request: HttpRequest) -> HttpResponse:
    """The supervisor's live chat view of every client they serve."""
    return _live(request, None)


@login_required
@require_GET
def client_live(request: HttpRequest, code: str) -> HttpResponse:
    """The supervisor's live chat view of one client."""
    return _live(request, code)


@login_required
@require_POST
def take_over(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """A supervisor takes the chat over (from its agent or from the queue); their console
    opens it."""
    user = _supervisor(request)
    conversation = board.access_conversation(user, conversation_id)
    try:
        routing.conversation_take_over(conversation=conversation, supervisor=user)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
        return redirect(reverse("chat:live"))
    return redirect(reverse("chat:console"))


@login_required
@require_GET
def widgets(request: HttpRequest) -> HttpResponse:
    """The chat widgets of the clients the supervisor serves: each one's embed line for the
    client's website, and a page of kefu's own to try it on (when kefu's address is among
    the widget's origins, as in the demo)."""
    user = _supervisor(request)
    here = f"{request.scheme}://{request.get_host()}"
    rows = [
        {
            "widget": w,
            "embed": f'<script src="{here}/chat/widget.js" data-key="{w.key}" async></script>',
            "try_here": origin_allowed(w, here),
        }
        for w in ChatWidget.objects.visible_to(user)
        .filter(revoked_at__isnull=True)
        .select_related("client")
        .order_by("client__code", "pk")
    ]
    return render(request, "chat/widgets.html", {"rows": rows, "here": here})


@login_required
@require_GET
def widget_try(request: HttpRequest, widget_id: int) -> HttpResponse:
    """A stand-in for the client's website with the widget embedded, as a customer sees it."""
    user = _supervisor(request)
    widget = ChatWidget.objects.visible_to(user).filter(pk=widget_id, revoked_at__isnull=True)
    found = widget.select_related("client").first()
    if found is None:
        raise Http404
    return render(request, "chat/widget_try.html", {"widget": found})


urlpatterns: list[URLPattern] = [
    path("widgets/", widgets, name="widgets"),
    path("widgets/<int:widget_id>/try/", widget_try, name="widget_try"),
    path("console/", console, name="console"),
    path(
        "console/conversations/<int:conversation_id>/",
        console_conversation,
        name="console_conversation",
    ),
    path(
        "console/conversations/<int:conversation_id>/wrapup/",
        conversation_wrap_up,
        name="wrapup",
    ),
    path(
        "console/conversations/<int:conversation_id>/transfer/",
        conversation_transfer,
        name="transfer",
    ),
    path("live/", live, name="live"),
    path("clients/<str:code>/live/", client_live, name="client_live"),
    path(
        "live/conversations/<int:conversation_id>/take-over/",
        take_over,
        name="take_over",
    ),
]
