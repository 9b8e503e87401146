from django.contrib import admin

from egsu.workdays.models import DayTransfer, TransferYear


class DayTransferInline(admin.TabularInline):
    model = DayTransfer
    extra = 1


@admin.register(TransferYear)
class TransferYearAdmin(admin.ModelAdmin):
    list_display = ("year", "confirmed", "source", "updated_at")
    inlines = [DayTransferInline]


@admin.register(DayTransfer)
class DayTransferAdmin(admin.ModelAdmin):
    list_display = ("day_off", "working_day", "year", "source")
