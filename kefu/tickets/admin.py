from django.contrib import admin

from kefu.tickets.models import Customer, Tag, Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    list_display = ("number", "subject", "client", "status", "priority", "channel", "created_at")
    list_filter = ("client", "status", "priority", "channel", "kind")
    search_fields = ("number", "subject")
    raw_id_fields = ("customer", "assignee", "team")
    # Changes to tickets go through the workspace so that each is recorded in the history.
    readonly_fields = ("client", "number", "status", "created_at", "updated_at")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ("id", "name", "client", "created_at")
    list_filter = ("client",)
    search_fields = ("name",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ("name", "client")
    list_filter = ("client",)
