from django.contrib import admin

from egsu.opendata.models import Publication, PublishedCell


@admin.register(Publication)
class PublicationAdmin(admin.ModelAdmin):
    list_display = ("dataset", "published_at", "period_from", "period_to", "rows", "withheld", "current")
    list_filter = ("dataset", "current")


@admin.register(PublishedCell)
class PublishedCellAdmin(admin.ModelAdmin):
    list_display = (
        "publication",
        "period",
        "level",
        "region",
        "energy",
        "product",
        "quantity",
        "value",
        "withheld",
    )
    list_filter = ("withheld", "level", "energy")
