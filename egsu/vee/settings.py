"""Which rule applies to a series and with what parameters: the most specific RuleSetting wins.

Order of specificity: the metering point; device type and quantity; device type; quantity; the
rule's base row. Parameters merge from the least to the most specific; `enabled` and the alarm
severity come from the most specific row that matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from egsu.vee.catalogue import SPECS, Code


@dataclass(frozen=True)
class Resolved:
    enabled: bool
    params: dict
    alarm: str  # severity of the alarm its findings raise, "" for none


class Settings:
    """The rule settings in memory, resolved per (code, point, device type, quantity) with a cache."""

    def __init__(self, rows) -> None:
        self._by_code: dict[str, list] = {}
        self._points_with_rows: set[int] = set()
        for row in rows:
            self._by_code.setdefault(row.code, []).append(row)
            if row.point_id:
                self._points_with_rows.add(row.point_id)
        for found in self._by_code.values():
            found.sort(key=lambda row: row.specificity)
        self._cache: dict[tuple, Resolved] = {}

    @classmethod
    def load(cls) -> Settings:
        from egsu.vee.models import RuleSetting

        return cls(RuleSetting.objects.all())

    def resolve(self, code: Code | str, *, point_id: int | None, device_type: str, quantity: str) -> Resolved:
        point_key = point_id if point_id in self._points_with_rows else None
        key = (code, point_key, device_type, quantity)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._resolve(Code(code), point_key, device_type, quantity)
        return found

    def _resolve(self, code: Code, point_id: int | None, device_type: str, quantity: str) -> Resolved:
        spec = SPECS[code]
        params = dict(spec.params)
        enabled, alarm = True, spec.alarm
        for row in self._by_code.get(code, []):
            if row.point_id and row.point_id != point_id:
                continue
            if row.device_type and row.device_type != device_type:
                continue
            if row.quantity and row.quantity != quantity:
                continue
            params.update(row.params or {})
            enabled, alarm = row.enabled, row.alarm_severity
        return Resolved(enabled, params, alarm)
