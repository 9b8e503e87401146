"""Forms: a state body's request (ACC-16) and the authorized body's decision."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from egsu.choices import energy_choices
from egsu.inforequests.models import InfoRequest
from egsu.registry.models import Subject


class RequestForm(forms.Form):
    organisation = forms.CharField(label=_("State body"), max_length=200)
    what = forms.ChoiceField(label=_("What is asked for"), choices=InfoRequest.What.choices)
    energy = forms.ChoiceField(label=_("Energy"), required=False, choices=[("", "—"), *energy_choices()])
    subjects = forms.ModelMultipleChoiceField(label=_("Subjects"), queryset=Subject.objects.order_by("name"),
                                              widget=forms.SelectMultiple(attrs={"size": 6}))  # fmt: skip
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    legal_basis = forms.CharField(label=_("Legal basis"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                                  help_text=_("The law and article under which your body asks, e.g. Art. 11 of the Law On access to information."))  # fmt: skip
    purpose = forms.CharField(label=_("Purpose"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              max_length=2000)  # fmt: skip


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("approve", _("approve")), ("refuse", _("refuse"))],
                                 widget=forms.RadioSelect)  # fmt: skip
    reasons = forms.CharField(label=_("Reasons"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              max_length=2000)  # fmt: skip
