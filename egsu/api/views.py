"""The cabinet page of one's personal API tokens: make one (shown once), see them, revoke one."""

from __future__ import annotations

from django import forms
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from egsu.access.decorators import cabinet_view
from egsu.access.roles import Module
from egsu.api import tokens
from egsu.cabinet.views_readings import DATA_MODULES

# Whoever may read something the API answers (data or arrivals) may hold tokens; the menu says the same.
TOKEN_MODULES = (*DATA_MODULES, Module.MONITORING)

LIFETIME_LABELS = {30: gettext_lazy("30 days"), 90: gettext_lazy("90 days"), 365: gettext_lazy("one year"),
                   None: gettext_lazy("until revoked")}  # fmt: skip


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("What is it for"), max_length=100,
        help_text=gettext_lazy("A name you will recognise: the system or script that uses it."),
    )  # fmt: skip
    lifetime = forms.ChoiceField(
        label=gettext_lazy("Valid for"), initial="90",
        choices=[("" if days is None else str(days), LIFETIME_LABELS[days]) for days in tokens.LIFETIMES],
        required=False,
    )  # fmt: skip

    @property
    def days(self) -> int | None:
        chosen = self.cleaned_data.get("lifetime") or ""
        return int(chosen) if chosen else None


@cabinet_view(any_of=TOKEN_MODULES)
def token_list(request):
    """Every token of the signed-in user; POST makes a new one and shows it this once."""
    form = TokenForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        found, made = tokens.create_token(
            request.user, form.cleaned_data["name"], days=form.days, request=request
        )
        form = TokenForm()
    return render(request, "api/tokens.html", {
        "form": form, "tokens": tokens.tokens_of(request.user), "made": made,
        "base": request.build_absolute_uri("/api/v1/"),
    }, status=200 if request.method == "GET" or made else 400)  # fmt: skip


@cabinet_view(any_of=TOKEN_MODULES)
@require_POST
def token_revoke(request, pk: int):
    found = get_object_or_404(tokens.tokens_of(request.user), pk=pk)  # only one's own
    tokens.revoke_token(found, actor=request.user, request=request)
    from django.contrib import messages

    messages.success(request, _("The token was revoked; it no longer opens the API."))
    return redirect("api:tokens")
