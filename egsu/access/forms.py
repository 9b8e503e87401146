"""Forms of the access pages: an account (user + profile), the user-list and audit filters."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from egsu.access import grants
from egsu.access import scope as gate
from egsu.access.audit import Event
from egsu.access.roles import DEFAULT_MODULES, Module, Role
from egsu.access.services import AccountData
from egsu.registry.bin import bin_problem
from egsu.registry.models import Subject
from egsu_core.clock import astana_midnight

SUBJECT_BOUND_ROLES = frozenset({Role.SUBJECT, Role.STATE_BODY})  # ACC-15(1), ACC-16


class AccountForm(forms.Form):
    """One account: the Django user and its Profile (role, subjects, modules) in one form."""

    username = forms.CharField(label=_("User name"), max_length=150, validators=[UnicodeUsernameValidator()])
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"))
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    subjects = forms.ModelMultipleChoiceField(
        label=_("Subjects"), queryset=None, required=False,
        help_text=_("Subject users: their organisation. State bodies: the subjects granted to them."),
    )  # fmt: skip
    modules = forms.MultipleChoiceField(
        label=_("Modules"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave the role's usual modules ticked unless the account needs fewer."),
    )  # fmt: skip
    meter_accounts = forms.CharField(
        label=_("Meter accounts"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Subscribers only: one meter per line, the supplier's BIN and the personal account, e.g. 123456789012 77-001."),
    )  # fmt: skip
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="kk")

    def __init__(self, *args, scope, user=None, **kwargs):
        self.scope = scope
        self.account = user
        if user is not None and "initial" not in kwargs:
            kwargs["initial"] = _initial(user)
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in grants.assignable_roles(scope)]
        self.fields["subjects"].queryset = gate.subjects(scope).order_by("name")
        self.fields["modules"].choices = [(m, Module(m).label) for m in grants.grantable_modules(scope)]

    def clean_username(self):
        name = self.cleaned_data["username"].strip()
        taken = get_user_model().objects.filter(username__iexact=name)
        if self.account is not None:
            taken = taken.exclude(pk=self.account.pk)
        if taken.exists():
            raise ValidationError(_("This user name is taken."))
        return name

    def clean_meter_accounts(self):
        """(supplier BIN, account) pairs: an account number alone names no meter (AMI-08)."""
        pairs: list[list[str]] = []
        for line in self.cleaned_data["meter_accounts"].replace(",", "\n").splitlines():
            if not line.strip():
                continue
            bin_, _sep, account = line.strip().partition(" ")
            account = account.strip()
            if not account or bin_problem(bin_):
                raise ValidationError(
                    _("Each line is the supplier's BIN and the account, e.g. 123456789012 77-001: %(line)s"),
                    params={"line": line.strip()[:60]},
                )
            if not Subject.objects.filter(bin=bin_).exists():
                raise ValidationError(_("No supplier with BIN %(bin)s is registered."), params={"bin": bin_})
            if [bin_, account] not in pairs:
                pairs.append([bin_, account])
        return pairs

    def clean(self):
        data = super().clean()
        role = data.get("role")
        if not role:
            return data
        subjects = data.get("subjects") or []
        if role == Role.SUBJECT and not subjects:
            self.add_error("subjects", _("A subject user needs its organisation."))
        if role not in SUBJECT_BOUND_ROLES and subjects:
            self.add_error("subjects", _("Only subject users and state bodies are bound to subjects."))
        if role != Role.SUBSCRIBER and data.get("meter_accounts"):
            self.add_error("meter_accounts", _("Only subscribers have meter accounts."))
        modules = set(data.get("modules") or [])
        if not modules and DEFAULT_MODULES[role]:
            self.add_error("modules", _("Tick at least one module."))
        for problem in grants.module_problems(self.scope, role, modules):
            self.add_error("modules", problem)
        return data

    def account_data(self) -> AccountData:
        data = self.cleaned_data
        return AccountData(
            username=data["username"], role=data["role"], first_name=data["first_name"],
            last_name=data["last_name"], email=data["email"], organisation=data["organisation"],
            phone=data["phone"], subjects=list(data["subjects"]), modules=sorted(data["modules"]),
            meter_accounts=data["meter_accounts"], language=data["language"],
        )  # fmt: skip


class NewAccountForm(AccountForm):
    """Adding an account: an initial password typed in (validated) or generated and shown once."""

    generate_password = forms.BooleanField(
        label=_("Generate a password and show it once"), required=False, initial=True
    )
    password1 = forms.CharField(
        label=_("Initial password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip
    password2 = forms.CharField(
        label=_("Initial password again"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("generate_password"):
            return data
        first, second = data.get("password1") or "", data.get("password2") or ""
        if not first:
            self.add_error("password1", _("Type a password or let the system generate one."))
        elif first != second:
            self.add_error("password2", _("The two passwords differ."))
        else:
            probe = get_user_model()(
                username=data.get("username", ""), email=data.get("email", ""),
                first_name=data.get("first_name", ""), last_name=data.get("last_name", ""),
            )  # fmt: skip
            try:
                validate_password(first, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class EditAccountForm(AccountForm):
    reset_password = forms.BooleanField(
        label=_("Set a new generated password and show it once"), required=False
    )


def _initial(user) -> dict:
    profile = getattr(user, "profile", None)
    initial = {
        "username": user.get_username(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
    }
    if profile is not None:
        initial |= {
            "role": profile.role,
            "organisation": profile.organisation,
            "phone": profile.phone,
            "subjects": list(profile.subjects.all()),
            "modules": sorted(profile.granted_modules),
            "meter_accounts": "\n".join(" ".join(pair) for pair in profile.meter_accounts),
            "language": profile.language,
        }
    return initial


class UserFilterForm(forms.Form):
    """The user list's filters: type (role), status and a free-text search."""

    STATUS_CHOICES = [("", _("Any status")), ("active", _("Active")), ("inactive", _("Inactive"))]

    role = forms.ChoiceField(label=_("Type"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        help_text=_("Name, e-mail or organisation"))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", _("Any type")), *Role.choices, ("none", _("No role yet"))]


class AuditFilterForm(forms.Form):
    """Audit filters; dates are Astana business days, both ends included."""

    event = forms.ChoiceField(label=_("Event"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150, help_text=_("User name"))
    object = forms.CharField(
        label=_("Object"), required=False, max_length=200, help_text=_("Id, or type:id such as auth.user:5")
    )
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = [("", _("Any event")), *((e.value, e.value) for e in Event)]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end is before the start."))
        return data

    def search_kwargs(self) -> dict:
        """Arguments for egsu.access.audit.search, the dates turned into UTC instants."""
        data = self.cleaned_data
        since: date | None = data.get("since")
        until: date | None = data.get("until")
        return {
            "event": data.get("event") or "",
            "actor": data.get("actor") or "",
            "obj": data.get("object") or "",
            "since": astana_midnight(since) if since else None,
            "until": astana_midnight(until + timedelta(days=1)) if until else None,
        }
