"""Admin pages for records that only the System writes: one definition for every app.

Journals, rollups, queues, alarms, forecasts and fixed dictionaries change through their services
(audited); the Django admin shows them. `ViewOnlyAdmin` also refuses deletion; `ViewOrDeleteAdmin`
lets an administrator remove a row (a finished job, a mail) but never add or edit one.
"""

from __future__ import annotations

from django.contrib import admin


class ViewOrDeleteAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ViewOnlyAdmin(ViewOrDeleteAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False
