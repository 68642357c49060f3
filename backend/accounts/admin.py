from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.forms import BrakedAdminLoginForm
from accounts.models import Region, User

# /admin/login/ is a door like the others: the brake's message for a refused attempt.
# (The brake itself holds there anyway: it is in the authentication backend.)
admin.site.login_form = BrakedAdminLoginForm


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "role", "region", "is_active"]
    list_filter = ["role", "region", "is_active"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Fieldline", {"fields": ["role", "region"]}))
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Fieldline", {"fields": ["role", "region"]}),
    )
