"""User management pages (ACC-12..16; Tech.req. §4 "user management"): list, add, edit, (de)activate."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from egsu.access import grants, services
from egsu.access import scope as gate
from egsu.access.decorators import cabinet_view
from egsu.access.forms import EditAccountForm, NewAccountForm, UserFilterForm
from egsu.access.roles import Module, Role

PAGE_SIZE = 50


def _shown_once(request, user, password: str):
    """The generated password, in this one response only: never stored, never cached."""
    response = render(request, "access/password_shown.html", {"account": user, "password": password})
    response["Cache-Control"] = "no-store"
    return response


@cabinet_view(Module.USERS, edit=True)
def user_list(request):
    scope = request.scope
    form = UserFilterForm(request.GET or None)
    users = gate.users(scope).select_related("profile").order_by("username")
    if form.is_valid():
        role, status, text = form.cleaned_data["role"], form.cleaned_data["status"], form.cleaned_data["q"]
        if role == "none":
            users = users.filter(profile__isnull=True)
        elif role:
            users = users.filter(profile__role=role)
        if status:
            users = users.filter(is_active=status == "active")
        if text:
            users = users.filter(
                Q(username__icontains=text) | Q(first_name__icontains=text) | Q(last_name__icontains=text)
                | Q(email__icontains=text) | Q(profile__organisation__icontains=text)
            )  # fmt: skip
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for user in page:
        profile = getattr(user, "profile", None)
        rows.append({
            "user": user,
            "role": Role(profile.role).label if profile else "",
            "organisation": profile.organisation if profile else "",
            "manageable": grants.can_manage(scope, user),
        })  # fmt: skip
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "access/user_list.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode(),
         "can_add": bool(grants.assignable_roles(scope))},
    )  # fmt: skip


@cabinet_view(Module.USERS, edit=True)
def user_add(request):
    scope = request.scope
    form = NewAccountForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        generated = form.cleaned_data["generate_password"]
        password = services.generate_password() if generated else form.cleaned_data["password1"]
        user = services.create_account(scope, request.user, form.account_data(), password, request=request)
        if generated:
            return _shown_once(request, user, password)
        messages.success(request, _("The account %(name)s was created.") % {"name": user.get_username()})
        return redirect("access:users")
    return render(request, "access/user_form.html", {"form": form, "account": None})


def _manageable(request, pk: int):
    """The account, if it exists in the gate's list (else 404) and this actor may manage it (else 403)."""
    user = get_object_or_404(gate.users(request.scope).select_related("profile"), pk=pk)
    if not grants.can_manage(request.scope, user):
        raise PermissionDenied("you may not manage this account")
    return user


@cabinet_view(Module.USERS, edit=True)
def user_edit(request, pk: int):
    scope = request.scope
    user = _manageable(request, pk)
    form = EditAccountForm(request.POST or None, scope=scope, user=user)
    if request.method == "POST" and form.is_valid():
        services.update_account(scope, request.user, user, form.account_data(), request=request)
        if form.cleaned_data["reset_password"]:
            return _shown_once(
                request, user, services.reset_password(scope, request.user, user, request=request)
            )
        messages.success(request, _("The account %(name)s was saved.") % {"name": user.get_username()})
        return redirect("access:users")
    return render(request, "access/user_form.html", {"form": form, "account": user})


@cabinet_view(Module.USERS, edit=True)
def user_deactivate(request, pk: int):
    """GET asks for confirmation; POST with active=0 deactivates, active=1 reactivates (never deletes)."""
    user = _manageable(request, pk)
    if request.method == "GET":
        return render(request, "access/user_confirm.html", {"account": user})
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    active = request.POST.get("active") == "1"
    if services.set_active(request.scope, request.user, user, active, request=request):
        text = (
            _("The account %(name)s was reactivated.")
            if active
            else _("The account %(name)s was deactivated.")
        )
        messages.success(request, text % {"name": user.get_username()})
    return redirect("access:users")
