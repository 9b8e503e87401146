from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from egsu.feedback.models import Feedback


class FeedbackForm(forms.Form):
    topic = forms.ChoiceField(label=_("Topic"), choices=Feedback.Topic.choices)
    text = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    page = forms.CharField(widget=forms.HiddenInput, max_length=2000)
    page_title = forms.CharField(widget=forms.HiddenInput, required=False, max_length=300)
    snapshot = forms.CharField(widget=forms.HiddenInput, required=False)
    attach = forms.BooleanField(
        label=_("Attach a snapshot of this page (its HTML, with what you typed)"), required=False
    )


class AnswerForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Feedback.Status.choices)
    answer = forms.CharField(
        label=_("Answer"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
