"""The operator's working-day calendar data: the Government's transfers per year (egsu.calendar_kz)."""
