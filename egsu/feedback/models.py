"""Feedback (GEN-07): what users tell about a page, the operators' answers, and monthly counts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Feedback(models.Model):
    class Topic(models.TextChoices):
        ERROR = "error", _("something does not work")
        DATA = "data", _("the data look wrong")
        IDEA = "idea", _("an idea or a wish")
        QUESTION = "question", _("a question")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        NEW = "new", _("new")
        IN_PROGRESS = "in_progress", _("being looked at")
        ANSWERED = "answered", _("answered")
        CLOSED = "closed", _("closed")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                               verbose_name=_("author"))  # fmt: skip
    author_name = models.CharField(_("author"), max_length=150)
    page = models.CharField(
        _("page"), max_length=500, help_text=_("The address of the page, without its query.")
    )
    page_title = models.CharField(_("page title"), max_length=300, blank=True)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    topic = models.CharField(_("topic"), max_length=16, choices=Topic.choices)
    text = models.TextField(_("text"))
    snapshot = models.TextField(_("page snapshot"), blank=True,
                                help_text=_("The page's HTML as the author saw it (with the values typed in forms), if the author attached it."))  # fmt: skip
    language = models.CharField(_("language"), max_length=5, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("answered by"))  # fmt: skip
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    created_at = models.DateTimeField(_("sent"), db_index=True)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(topic__in=["error", "data", "idea", "question", "other"]),
                                   name="feedback_topic_known"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} {self.page} ({self.status})"


class MonthlySummary(models.Model):
    """Counts of one month's feedback by page and by topic (made by a periodic job, once per month)."""

    month = models.DateField(_("month"), unique=True)
    total = models.PositiveIntegerField(_("messages"), default=0)
    by_page = models.JSONField(_("by page"), default=dict)
    by_topic = models.JSONField(_("by topic"), default=dict)
    by_page_topic = models.JSONField(_("by page and topic"), default=list)
    made_at = models.DateTimeField(_("made"))

    class Meta:
        verbose_name = _("monthly feedback summary")
        verbose_name_plural = _("monthly feedback summaries")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.total}"
