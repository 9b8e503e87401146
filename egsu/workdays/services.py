"""The operator's transfers as egsu.calendar_kz reads them, and the cache kept honest on change."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from egsu import calendar_kz
from egsu.calendar_kz import Transfer


def operator_transfers() -> dict[int, tuple[Transfer, ...]]:
    """Every year the operator entered, with its transfers (an empty tuple: no day moved)."""
    from egsu.workdays.models import DayTransfer, TransferYear

    years: dict[int, list[Transfer]] = {
        year: [] for year in TransferYear.objects.values_list("year", flat=True)
    }
    for row in DayTransfer.objects.select_related("year"):
        years[row.year.year].append(Transfer(row.day_off, row.working_day, row.source or row.year.source))
    return {year: tuple(items) for year, items in years.items()}


def unconfirmed_years(*years: int) -> list[int]:
    """Which of `years` have no checked decree (deadlines in them may move when it is entered)."""
    from egsu.workdays.models import TransferYear

    confirmed = set(
        TransferYear.objects.filter(year__in=years, confirmed=True).values_list("year", flat=True)
    )
    return [year for year in years if year not in confirmed and year not in calendar_kz.TRANSFERS]


def _changed(**_kwargs) -> None:
    calendar_kz.invalidate()


def connect_signals() -> None:
    from egsu.workdays.models import DayTransfer, TransferYear

    for model in (TransferYear, DayTransfer):
        post_save.connect(_changed, sender=model, dispatch_uid=f"workdays-{model.__name__}-save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"workdays-{model.__name__}-delete")
