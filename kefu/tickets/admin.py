from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from kefu.core.admin import AuditedAdmin
from kefu.tickets.customers import customer_identifiers_sync
from kefu.tickets.models import Customer, Tag, Ticket
from kefu.tickets.selectors import customer_match
from kefu.tickets.services import customer_index


@admin.register(Ticket)
class TicketAdmin(AuditedAdmin[Ticket]):
    list_display = ("number", "subject", "client", "status", "priority", "channel", "created_at")
    list_filter = ("client", "status", "priority", "channel", "kind")
    search_fields = ("number", "subject")
    raw_id_fields = ("customer", "assignee", "team")
    # Changes to tickets go through the workspace so that each is recorded in the history.
    readonly_fields = ("client", "number", "status", "created_at", "updated_at")


@admin.register(Customer)
class CustomerAdmin(AuditedAdmin[Customer]):
    list_display = ("id", "name", "client", "created_at")
    list_filter = ("client",)
    # Name, phones and emails are encrypted: search matches a whole value by blind index.
    search_fields = ("external_key",)
    exclude = ("phone_key", "email_key", "name_key", "merged_into", "merged_at")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        if not search_term.strip():
            return queryset, False
        match = customer_match(search_term) | Q(external_key=search_term.strip())
        return queryset.filter(match), False

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        customer_index(customer=obj)
        super().save_model(request, obj, form, change)
        customer_identifiers_sync(customer=obj, verified=True)


@admin.register(Tag)
class TagAdmin(AuditedAdmin[Tag]):
    list_display = ("name", "client")
    list_filter = ("client",)
