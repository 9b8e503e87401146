"""The nine App.2 record layouts (Tables 1.1–1.9) and the code catalogues of §13.2, as plain data.

The registry loads DEVICE_TYPES, OPERATION_TYPES and FACILITY_KINDS as its
reference dictionaries; the rules read TABLES to know which field names and
codes a facility's kind allows. Nothing here imports Django.
"""

from __future__ import annotations

from dataclasses import dataclass

# FMT-06: metering device types (id → English name, Kazakh name as printed).
DEVICE_TYPES: dict[int, tuple[str, str]] = {
    1: ("Preparation, storage", "Дайындау, сақтау"),
    2: ("Acceptance/delivery", "Қабылдау/тапсыру"),
    10: ("Preparation, storage", "Дайындау, сақтау"),
    11: ("Acceptance/delivery", "Қабылдау/тапсыру"),
}

# FMT-07, §13.2: operation types (id → English name, Kazakh name as printed, kinds that use it).
# IDs 9–11 are not operation types in the order.
OPERATION_TYPES: dict[int, tuple[str, str, frozenset[str]]] = {
    1: (
        "Acceptance from oil-producing organisations",
        "Мұнай өндіруші ұйымдардан қабылдау",
        frozenset({"1.3"}),
    ),
    2: ("Delivery to oil refineries", "Мұнай өңдеу зауыттарына тапсыру", frozenset({"1.3"})),
    3: (
        "Delivery by oil-transport organisations",
        "Мұнай тасымалдау ұйымдарының тапсыруы",
        frozenset({"1.3"}),
    ),
    4: ("Delivery for export", "Экспортқа тапсыру", frozenset({"1.3"})),
    5: (
        "Acceptance from oil-transport organisations",
        "Мұнай тасымалдау ұйымдарынан қабылдау",
        frozenset({"1.3"}),
    ),
    6: ("Preparation", "Дайындық", frozenset({"1.1"})),
    7: ("Storage", "Сақтау", frozenset({"1.2"})),
    8: ("Acceptance from oil terminals", "Мұнай терминалдарынан қабылдау", frozenset({"1.3"})),
    12: (
        "Acceptance from gas-producing organisations",
        "Газ өндіруші ұйымдардан қабылдау",
        frozenset({"1.8"}),
    ),
    13: ("Delivery to gas-processing plants", "Газ өңдеу зауыттарына тапсыру", frozenset({"1.8"})),
    14: ("Delivery to gas-transport organisations", "Газ тасымалдау ұйымдарына тапсыру", frozenset({"1.8"})),
    15: ("Delivery for export", "Экспортқа тапсыру", frozenset({"1.8"})),
    16: (
        "Acceptance from gas-transport organisations",
        "Газ тасымалдау ұйымдарынан қабылдау",
        frozenset({"1.8"}),
    ),
    17: ("Preparation", "Дайындық", frozenset({"1.4", "1.5", "1.6", "1.7"})),
    18: ("Storage site", "Сақтау орны", frozenset({"1.9"})),
    19: ("Flare output", "Алау шығысы", frozenset({"1.8"})),
}

# FMT-01: facility kinds, named after the App.2 table titles (English, Kazakh).
FACILITY_KINDS: dict[str, tuple[str, str]] = {
    "1.1": (
        "Crude-oil and gas-condensate preparation and pumping shop",
        "Шикі мұнайды дайындау және айдау, газ конденсатын дайындау және айдау цехы",
    ),
    "1.2": (
        "Tank farm for crude oil and gas condensate",
        "Шикі мұнай мен газ конденсатын сақтауға арналған резервуарлық парк",
    ),
    "1.3": (
        "Crude-oil acceptance-delivery point, loading rack or pipeline",
        "Шикі мұнайды қабылдау-тапсыру пункті, құю-төгу эстакадасы немесе құбыр",
    ),
    "1.4": ("Raw-gas complex preparation unit", "Шикі газды кешенді дайындау қондырғысы"),
    "1.5": (
        "Flare unit for forced flaring of raw gas",
        "Шикі газды технологиялық еріксіз жағуға арналған алау қондырғысы",
    ),
    "1.6": (
        "Unit using raw gas for own technological needs",
        "Шикі газды өзінің технологиялық қажеттіліктері үшін пайдалануға арналған қондырғы",
    ),
    "1.7": ("Raw-gas reinjection unit", "Шикі газды кері айдау қондырғысы"),
    "1.8": (
        "Raw-gas and commodity-gas acceptance-delivery point on a gas pipeline",
        "Газ құбыры арқылы шикі газды және тауарлық газды қабылдау-тапсыру пункті",
    ),
    "1.9": ("Underground storage of commodity gas", "Тауарлық газды сақтауға арналған жерасты газ қоймасы"),
}

# App.3 / §13.3: every measured quantity any table prints, in the order the tables print them.
QUANTITIES: tuple[str, ...] = (
    "tankLevel",
    "density",
    "temperature",
    "volume",
    "pressure",
    "massflowbegin",
    "massflowend",
    "mass",
)

# FMT-08: every name a sender may use for the object, device type, device number and product.
OBJECT_ID_FIELDS: tuple[str, ...] = ("ID", "id")  # "ID" as printed, "id" as real clients send it
DEVICE_FIELDS: tuple[str, ...] = ("deviceTypeId", "deviceNameId", "deviceId")
PRODUCT_FIELDS: tuple[str, ...] = ("productTypeId", "productId")
OTHER_FIELDS: tuple[str, ...] = (
    "datetime",
    "regdatetime",
    "operationTypeId",
    "pipelineId",
    "isDaily",
    "deviceStatus",
)
KNOWN_FIELDS: frozenset[str] = frozenset(
    OBJECT_ID_FIELDS + DEVICE_FIELDS + PRODUCT_FIELDS + OTHER_FIELDS + QUANTITIES
)

# Misspellings seen in real client configurations, read as the proper name with a warning.
FIELD_ALIASES: dict[str, str] = {"tenkLevel": "tankLevel"}

_OIL_DEVICES = frozenset({1, 2})  # FMT-06
_GAS_DEVICES = frozenset({10, 11})  # FMT-06
_GAS_QUANTITIES = ("temperature", "volume", "pressure")


@dataclass(frozen=True)
class TableLayout:
    """One App.2 table: the codes it allows and the names it prints (§13.3 presence matrix)."""

    kind: str
    operation_types: frozenset[int]  # FMT-07
    device_types: frozenset[int]  # FMT-06
    device_type_field: str  # FMT-08 (a)
    device_number_field: str  # FMT-08 (b)
    product_field: str  # FMT-08 (c)
    has_regdatetime: bool  # FMT-08 (d)
    has_pipeline: bool
    quantities: tuple[str, ...]

    @property
    def name_en(self) -> str:
        return FACILITY_KINDS[self.kind][0]

    @property
    def name_kk(self) -> str:
        return FACILITY_KINDS[self.kind][1]

    @property
    def fields(self) -> tuple[str, ...]:
        """The field names this table prints, in its row order."""
        names = ["ID", "datetime"]
        if self.has_regdatetime:
            names.append("regdatetime")
        names += [self.device_type_field, "operationTypeId", self.device_number_field, self.product_field]
        if self.has_pipeline:
            names.append("pipelineId")
        names += [*self.quantities, "isDaily", "deviceStatus"]
        return tuple(names)

    @property
    def device_id_means(self) -> str | None:
        """What a bare ``deviceId`` stands for in this table: "type", "number" or None (not printed)."""
        if self.device_type_field == "deviceId":
            return "type"
        if self.device_number_field == "deviceId":
            return "number"
        return None


def _layout(
    kind: str,
    operations: set[int],
    devices: frozenset[int],
    quantities: tuple[str, ...],
    *,
    device_type_field: str = "deviceTypeId",
    device_number_field: str = "deviceNameId",
    product_field: str = "productTypeId",
    has_regdatetime: bool = True,
    has_pipeline: bool = False,
) -> TableLayout:
    return TableLayout(
        kind=kind,
        operation_types=frozenset(operations),
        device_types=devices,
        device_type_field=device_type_field,
        device_number_field=device_number_field,
        product_field=product_field,
        has_regdatetime=has_regdatetime,
        has_pipeline=has_pipeline,
        quantities=quantities,
    )


TABLES: dict[str, TableLayout] = {
    "1.1": _layout("1.1", {6}, _OIL_DEVICES, ("tankLevel", "volume"), has_regdatetime=False),
    "1.2": _layout("1.2", {7}, _OIL_DEVICES, ("tankLevel", "volume"), device_number_field="deviceId"),
    "1.3": _layout(
        "1.3",
        {1, 2, 3, 4, 5, 8},
        _OIL_DEVICES,
        ("volume", "massflowbegin", "massflowend", "mass"),
        device_type_field="deviceId",
        has_pipeline=True,
    ),
    "1.4": _layout("1.4", {17}, _GAS_DEVICES, _GAS_QUANTITIES),
    "1.5": _layout("1.5", {17}, _GAS_DEVICES, _GAS_QUANTITIES),
    "1.6": _layout("1.6", {17}, _GAS_DEVICES, _GAS_QUANTITIES),
    "1.7": _layout("1.7", {17}, _GAS_DEVICES, _GAS_QUANTITIES),
    "1.8": _layout(
        "1.8", {12, 13, 14, 15, 16, 19}, _GAS_DEVICES, _GAS_QUANTITIES, device_type_field="deviceId"
    ),
    "1.9": _layout(
        "1.9",
        {18},
        _GAS_DEVICES,
        ("density", "temperature", "volume", "pressure"),
        device_number_field="deviceId",
        product_field="productId",
    ),
}


def operation_kinds(operation_type_id: int) -> frozenset[str]:
    """The kinds whose table allows this operation (empty for an unknown id)."""
    entry = OPERATION_TYPES.get(operation_type_id)
    return entry[2] if entry else frozenset()
