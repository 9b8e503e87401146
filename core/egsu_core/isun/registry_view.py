"""What the ISUN rules need to know about the registry, without Django.

The server answers these from its database (egsu.registry.snapshot); tests and
the agent can answer them from plain dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str  # operator-assigned number of the device in the System (deviceNameId/deviceId)
    device_type_id: int  # 1/2 (oil tables) or 10/11 (gas tables), FMT-06
    product_type_id: int | None
    pipeline_id: int | None
    commercial: bool  # ACC-06: commercial meters stay distinguishable
    active: bool = True
    allowed_operations: frozenset[int] = (
        frozenset()
    )  # empty = every operation allowed for the facility's kind


@dataclass(frozen=True)
class FacilityInfo:
    object_id: str  # operator-assigned object ID (field ID / id)
    kind: str  # "1.1" … "1.9": the App.2 table that describes this facility
    subject_bin: str
    active: bool = True
    devices: dict[str, DeviceInfo] = field(default_factory=dict)


class RegistryView(Protocol):
    def facility(self, object_id: str) -> FacilityInfo | None: ...

    def product_type_exists(self, product_type_id: int) -> bool: ...

    def pipeline_exists(self, pipeline_id: int) -> bool: ...


@dataclass
class DictRegistry:
    """A RegistryView over plain dictionaries, for tests and offline checks."""

    facilities: dict[str, FacilityInfo] = field(default_factory=dict)
    product_types: set[int] = field(default_factory=set)
    pipelines: set[int] = field(default_factory=set)

    def facility(self, object_id: str) -> FacilityInfo | None:
        return self.facilities.get(object_id)

    def product_type_exists(self, product_type_id: int) -> bool:
        return product_type_id in self.product_types

    def pipeline_exists(self, pipeline_id: int) -> bool:
        return pipeline_id in self.pipelines
