from django.contrib import admin

from egsu.feedback.models import Feedback, MonthlySummary


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("created_at", "author_name", "page", "topic", "status")
    list_filter = ("topic", "status")
    readonly_fields = ("author", "snapshot")


@admin.register(MonthlySummary)
class MonthlySummaryAdmin(admin.ModelAdmin):
    list_display = ("month", "total", "made_at")
