"""Registry models: who reports (subjects, connected systems), what is metered and with what.

One module per aggregate; import them from here.
"""

from egsu.registry.models.dictionaries import DeviceType, OperationType, Pipeline, ProductType
from egsu.registry.models.facilities import Device, Facility
from egsu.registry.models.subjects import Subject
from egsu.registry.models.systems import ConnectedSystem, Contour, Service

__all__ = [
    "ConnectedSystem",
    "Contour",
    "Device",
    "DeviceType",
    "Facility",
    "OperationType",
    "Pipeline",
    "ProductType",
    "Service",
    "Subject",
]
