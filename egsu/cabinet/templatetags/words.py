"""Template filters that show people words, not codes: {{ "PT2H"|words }} → "2 hours" (egsu_core.vocabulary)."""

from __future__ import annotations

from django import template

from egsu.choices import label

register = template.Library()


@register.filter
def words(code) -> str:
    """An interval's or energy's label in the page's language; anything else as it is."""
    return label(code) if code else "—"
