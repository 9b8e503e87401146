"""Forms of the reports pages: the library's filters, a subscription, an urgent report."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from egsu.access import scope as gate
from egsu.reporting import figures
from egsu.reporting.models import FREQUENCY_CHOICES, KIND_CHOICES, LEVEL_CHOICES


def _any(choices) -> list:
    return [("", _("all")), *choices]


class LibraryForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), required=False, choices=_any(LEVEL_CHOICES))
    frequency = forms.ChoiceField(label=_("Frequency"), required=False, choices=_any(FREQUENCY_CHOICES))
    kind = forms.ChoiceField(label=_("Report"), required=False, choices=_any(KIND_CHOICES))
    month = forms.CharField(label=_("Month"), required=False, widget=forms.DateInput(attrs={"type": "month"}),
                            max_length=7)  # fmt: skip

    def clean_month(self):
        value = self.cleaned_data["month"]
        if value:
            try:
                year, month = (int(part) for part in value.split("-"))
                if not 1 <= month <= 12:
                    raise ValueError
            except ValueError as exc:
                raise forms.ValidationError(_("Give the month as YYYY-MM.")) from exc
            return (year, month)
        return None


def area_choices(scope, level: str) -> list[tuple[str, str]]:
    """Areas this scope may choose at a level: regions and every subject for national roles; own subjects otherwise."""
    if level == "national":
        return [("", _("the whole country"))]
    if level == "regional":
        return [(r, r) for r in figures.regions(scope)] if scope.all_subjects else []
    return [(s.bin, f"{s.name} ({s.bin})") for s in gate.subjects(scope).order_by("name")]


class ReportChoiceForm(forms.Form):
    """Which report (kind, level, area): subscriptions and urgent reports choose alike, within the scope."""

    kind = forms.ChoiceField(label=_("Report"), choices=KIND_CHOICES)
    level = forms.ChoiceField(label=_("Level"), choices=LEVEL_CHOICES)
    area = forms.ChoiceField(label=_("Area"), required=False, choices=[])

    def __init__(self, scope, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["kind"].choices = [c for c in KIND_CHOICES if c[0] in gate.report_kinds(scope)]
        levels = ["national", "regional", "local"] if scope.all_subjects else ["local"]
        self.fields["level"].choices = [c for c in LEVEL_CHOICES if c[0] in levels]
        self.fields["area"].choices = [
            (value, f"{label}") for level in levels for value, label in area_choices(scope, level)
        ]

    def clean(self):
        data = super().clean()
        level, area = data.get("level"), data.get("area") or ""
        if level and area not in {value for value, _label in area_choices(self.scope, level)}:
            raise forms.ValidationError(_("Choose an area of this level that you may see."))
        data["area"] = area
        return data


class SubscriptionForm(ReportChoiceForm):
    frequency = forms.ChoiceField(label=_("Frequency"), choices=FREQUENCY_CHOICES)
