from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from egsu.workdays.models import DayTransfer, TransferYear


class DayTransferInline(admin.TabularInline):
    model = DayTransfer
    extra = 1


@admin.register(TransferYear)
class TransferYearAdmin(admin.ModelAdmin):
    list_display = ("year", "state", "source", "updated_at")
    inlines = [DayTransferInline]

    @admin.display(description=_("state"), ordering="confirmed")
    def state(self, row: TransferYear) -> str:
        """Words, not a tick: a year without a checked decree counts the law's holidays only."""
        return str(_("confirmed by the decree") if row.confirmed else _("unconfirmed: no decree entered"))


@admin.register(DayTransfer)
class DayTransferAdmin(admin.ModelAdmin):
    list_display = ("day_off", "working_day", "year", "source")
