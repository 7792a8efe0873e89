"""Organisations, places, neighbourhoods, teams and staff, kept by a system administrator
(a Django staff user) in Django's admin. No person's record is shown here."""

from __future__ import annotations

from django.contrib import admin

from neighbourhood.care.teams.models import (
    IntegratorPartnership,
    Membership,
    Neighbourhood,
    Organisation,
    Place,
    Professional,
    Team,
)


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 1
    autocomplete_fields = ["professional"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "neighbourhood"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Professional)
class ProfessionalAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["display_name", "role", "job_title", "organisation"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["organisation"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "ods_code", "sector"]
    list_filter = ["sector"]
    search_fields = ["name", "ods_code"]


admin.site.register(Place)
admin.site.register(Neighbourhood)
admin.site.register(IntegratorPartnership)
admin.site.site_header = "Neighbourhood care: organisations and teams"
