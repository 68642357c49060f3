from django.contrib import admin

from planning.models import Plan, PlanRules


@admin.register(PlanRules)
class PlanRulesAdmin(admin.ModelAdmin):
    list_display = ["region", "day_minutes", "travel_kmh", "updated_at", "updated_by"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["region", "start", "weeks", "planned", "unplanned", "created_by", "created_at"]
    readonly_fields = [f.name for f in Plan._meta.fields]
