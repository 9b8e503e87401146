"""Registry changes into the audit log (egsu/access/audit.py), with before and after.

Used by the admin (``AuditedAdmin``), the workbook import, meter registration and head-end tokens.
Secrets never enter the log: a password or token hash shows only as "changed".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.contrib import admin
from django.db import models

from egsu.access.audit import Event, audit

SECRET_FIELDS = frozenset({"password_hash", "token_hash"})


def json_safe(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return (
            sorted(json_safe(v) for v in value)
            if isinstance(value, set | frozenset)
            else [json_safe(v) for v in value]
        )
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def snapshot(obj: models.Model) -> dict:
    """The object's fields (foreign keys as ids, many-to-many as sorted ids), secrets masked."""
    values: dict = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        values[field.name] = "(set)" if field.name in SECRET_FIELDS and value else json_safe(value)
    if obj.pk is not None:
        for field in obj._meta.many_to_many:
            values[field.name] = sorted(
                str(pk) for pk in getattr(obj, field.name).values_list("pk", flat=True)
            )
    return values


def differences(before: dict | None, after: dict | None) -> tuple[dict | None, dict | None]:
    """Only what changed (a created or deleted object keeps everything)."""
    if before is None or after is None:
        return before, after
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(
    obj: models.Model,
    before: dict | None,
    after: dict | None,
    *,
    actor=None,
    request=None,
    source: str = "",
    event: Event | None = None,
    summary: str = "",
) -> None:
    """One audit event for one registry object; nothing when nothing changed."""
    old, new = differences(before, after)
    if before is not None and after is not None and not new:
        return
    if event is None:
        event = (
            Event.REGISTRY_CREATED
            if before is None
            else Event.REGISTRY_DELETED
            if after is None
            else Event.REGISTRY_CHANGED
        )
    audit(
        event,
        actor=actor,
        obj=obj,
        summary=summary or f"{obj._meta.verbose_name} {obj}",
        before=old,
        after=new,
        request=request,
        source=source,
    )


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete in the admin goes to the audit log with before and after."""

    def save_model(self, request, obj, form, change) -> None:
        obj._audit_before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        record(obj, getattr(obj, "_audit_before", None), snapshot(obj), request=request, source="admin")

    def delete_model(self, request, obj) -> None:
        before = snapshot(obj)
        super().delete_model(request, obj)
        record(obj, before, None, request=request, source="admin")

    def delete_queryset(self, request, queryset) -> None:
        gone = [(obj, snapshot(obj)) for obj in queryset]
        super().delete_queryset(request, queryset)
        for obj, before in gone:
            record(obj, before, None, request=request, source="admin")
