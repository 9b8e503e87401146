"""Every signed-in user changes its own password here (Django's validators; audited)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from egsu.access import services


@sensitive_post_parameters()
def password_change(request):
    """Open to any signed-in account, even one without a role yet (no data is shown here)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.change_own_password(request.user, form.cleaned_data["new_password1"], request=request)
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password was changed."))
        return redirect("access:password")
    return render(request, "access/password_form.html", {"form": form})
