"""Feedback (GEN-07): send it from any page, answer it, count it per month by page and topic."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from egsu.access import audit as audit_log
from egsu.access import scope as gate
from egsu.access.audit import Event
from egsu.feedback.models import Feedback, MonthlySummary
from egsu.mail.outbox import send
from egsu.reporting.definitions import month_start
from egsu_core.clock import astana_midnight, utcnow

MAX_SNAPSHOT = 2 * 1024 * 1024  # characters of page HTML kept; a larger snapshot is cut, and says so
MAX_TEXT = 5000


def submit(user, *, page: str, page_title: str, query: str, topic: str, text: str, snapshot: str = "",
           language: str = "", request=None) -> Feedback:  # fmt: skip
    if topic not in Feedback.Topic.values:
        raise ValueError(f"unknown topic {topic!r}")
    text = text.strip()
    if not text:
        raise ValueError("empty feedback")
    if len(snapshot) > MAX_SNAPSHOT:
        snapshot = snapshot[:MAX_SNAPSHOT] + "\n<!-- cut: the page was larger than the snapshot limit -->"
    found = Feedback.objects.create(
        author=user, author_name=user.get_username(), page=page.split("?")[0][:500], page_title=page_title[:300],
        query=query[:1000], topic=topic, text=text[:MAX_TEXT], snapshot=snapshot, language=language[:5],
        created_at=utcnow(),
    )  # fmt: skip
    audit_log.audit(Event.FEEDBACK_SENT, actor=user, obj=found, request=request,
                    summary=f"{topic} on {found.page}")  # fmt: skip
    return found


@transaction.atomic
def answer(scope, user, found: Feedback, *, status: str, text: str, request=None) -> Feedback:
    if not gate.may_answer_feedback(scope):
        raise PermissionDenied("only the operators answer feedback (GEN-07)")
    if status not in Feedback.Status.values:
        raise ValueError(f"unknown status {status!r}")
    before = {"status": found.status, "answer": found.answer[:200]}
    text = text.strip()
    newly_answered = bool(text) and text != found.answer
    found.status = status
    if text:
        found.answer, found.answered_by, found.answered_at = text, user, utcnow()
    found.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    audit_log.audit(Event.FEEDBACK_ANSWERED, actor=user, obj=found, request=request, before=before,
                    after={"status": found.status, "answer": found.answer[:200]})  # fmt: skip
    if newly_answered and found.author is not None and found.author.email:
        send(found.author, _("An answer to your feedback"), template="feedback/mail/answered.txt",
             context={"found": found}, dedupe_key=f"feedback:{found.pk}:{found.answered_at:%s}")  # fmt: skip
    return found


def summarise(month: date) -> MonthlySummary:
    """Count one Astana month's feedback by page, topic and both (idempotent: made again, same row)."""
    start = month_start(month)
    end = month_start(start + timedelta(days=32))
    found = Feedback.objects.filter(
        created_at__gte=astana_midnight(start), created_at__lt=astana_midnight(end)
    )
    pairs = Counter(found.values_list("page", "topic"))
    by_page: Counter = Counter()
    by_topic: Counter = Counter()
    for (page, topic), count in pairs.items():
        by_page[page] += count
        by_topic[topic] += count
    summary, _created = MonthlySummary.objects.update_or_create(month=start, defaults={
        "total": sum(pairs.values()), "by_page": dict(by_page), "by_topic": dict(by_topic),
        "by_page_topic": [[p, t, n] for (p, t), n in sorted(pairs.items())], "made_at": utcnow(),
    })  # fmt: skip
    return summary
