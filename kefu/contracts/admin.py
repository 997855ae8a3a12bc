from django.contrib import admin

from kefu.contracts.models import Client, Department


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin[Client]):
    list_display = ("code", "name", "ticket_prefix", "time_zone", "is_active")
    search_fields = ("code", "name")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ("name", "client", "email")
    list_filter = ("client",)
