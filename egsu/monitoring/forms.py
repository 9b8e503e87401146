"""The period picker and grouping of the arrivals pages (parsed once, with labels for every input)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from egsu.monitoring.owed import last_days

DEFAULT_DAYS = 7
MAX_DAYS = 3 * 366  # any period, but not an accidental century


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        default_start, default_end = last_days(DEFAULT_DAYS)
        start, end = data.get("start") or None, data.get("end") or None
        if start is None and end is None:
            start, end = default_start, default_end
        elif start is None:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        elif end is None:
            end = max(start, default_end)
        if end < start:
            raise forms.ValidationError(_("The end of the period is before its start."))
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of at most three years."))
        data["start"], data["end"] = start, end
        return data


class ArrivalsForm(PeriodForm):
    GROUPS = [("subject", _("Subject")), ("region", _("Region")), ("national", _("Whole country"))]
    SORTS = [
        ("completeness", _("Completeness, lowest first")),
        ("-completeness", _("Completeness, highest first")),
        ("missing", _("Most missing first")),
        ("name", _("Name")),
    ]
    ENERGIES = [("", _("All")), ("oil_gas", _("Oil and gas")), ("electricity", _("Electricity")),
                ("heat", _("Heat")), ("gas", _("Gas"))]  # fmt: skip
    group = forms.ChoiceField(label=_("Group by"), choices=GROUPS, required=False)
    energy = forms.ChoiceField(label=_("Energy"), choices=ENERGIES, required=False)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORTS, required=False)

    def clean(self):
        data = super().clean()
        data["group"] = data.get("group") or "subject"
        data["sort"] = data.get("sort") or "completeness"
        return data
