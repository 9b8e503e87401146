"""AMI registry and intake records: metering objects, meters, channels, head-ends, events, batches.

Sized for millions of meters: lookups the intake makes per batch (meter by subject and
serial number, channels by meter) walk unique indexes; the verification list walks an index
on the due date; everything is loaded with bulk_create (services.register_meters).
Interval values do not live here: they go to the readings store (egsu.readings).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from egsu.ami import catalog, gas
from egsu.ami.events import ALARMS, MeterEventCode
from egsu.ami.obis import obis_problem
from egsu.choices import interval_choices, meter_energy_choices
from egsu.registry.models import Subject

ENERGY_CHOICES = meter_energy_choices()
BAND_CHOICES = [(b.value, b.value) for b in catalog.GasBand]
QUANTITY_CHOICES = [(q.code, f"{q.code} — {q.label}") for q in catalog.QUANTITIES.values()]
INTERVAL_CHOICES = interval_choices(
    sorted({*catalog.GAS_BAND_INTERVALS.values(), *catalog.ENERGY_INTERVAL.values()})
)


class MeteringObject(models.Model):
    """Where metering happens (Tech.req. §7): its code is the readings store's object_id."""

    class Kind(models.TextChoices):
        SUBSTATION = "substation", _("substation")
        FEEDER = "feeder", _("feeder")
        TRANSFORMER_POINT = "transformer_point", _("transformer point")
        HEAT_POINT = "heat_point", _("heat point")
        BUILDING = "building", _("building")
        GAS_DISTRIBUTION_POINT = "gas_distribution_point", _("gas distribution point")

    code = models.CharField(_("code"), max_length=64, unique=True, help_text=_("Operator-assigned id."))
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=300)
    region = models.CharField(_("region"), max_length=100, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("address"), max_length=500, blank=True)
    gas_composition = models.JSONField(
        _("gas composition"),
        null=True,
        blank=True,
        help_text=_("Mole fractions by GERG-2008 component (methane, ethane, …); default when empty."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("metering object")
        verbose_name_plural = _("metering objects")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.gas_composition:
            if not isinstance(self.gas_composition, dict):
                raise ValidationError({"gas_composition": _("a mapping of component to mole fraction")})
            problem = gas.composition_problem(self.gas_composition)
            if problem:
                raise ValidationError({"gas_composition": problem})
        if self.parent_id is not None and self.parent_id == self.pk:
            raise ValidationError({"parent": _("an object cannot be its own parent")})


class Meter(models.Model):
    """A commercial or technical meter of electricity, heat or gas (Tech.req. §3–4, §20, §30–33)."""

    class MeterType(models.TextChoices):
        SINGLE_PHASE = "1P", _("single-phase electricity")
        THREE_PHASE_DIRECT = "3P-DC", _("three-phase direct-connected")
        THREE_PHASE_CT = "3P-CT", _("three-phase transformer-connected")
        HEAT = "HM", _("heat meter")
        GAS_HOUSEHOLD = "GAS-H", _("household gas meter")
        GAS_INDUSTRIAL = "GAS-I", _("industrial gas meter or volume corrector")

    subject = models.ForeignKey(
        Subject, verbose_name=_("utility"), on_delete=models.PROTECT, related_name="+",
        help_text=_("The subject whose head-end reports this meter."),
    )  # fmt: skip
    metering_object = models.ForeignKey(
        MeteringObject, verbose_name=_("metering object"), on_delete=models.PROTECT, related_name="meters"
    )
    energy = models.CharField(_("energy"), max_length=16, choices=ENERGY_CHOICES)
    meter_type = models.CharField(_("type"), max_length=8, choices=MeterType.choices)
    model = models.CharField(_("model"), max_length=100)
    serial_number = models.CharField(_("serial number"), max_length=64)
    state_register_entry = models.CharField(
        _("state register (МӨЖ) entry"), max_length=64, blank=True, help_text=_("AMI-34, AMI-47.")
    )
    verified_on = models.DateField(_("verified on"), null=True, blank=True)
    verification_due = models.DateField(_("next verification due"), null=True, blank=True)
    account = models.CharField(_("personal account"), max_length=64, blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    counterparty = models.CharField(_("counterparty"), max_length=300, blank=True)
    commercial = models.BooleanField(_("commercial metering"), default=True)
    gas_band = models.CharField(
        _("gas consumption band"), max_length=8, choices=BAND_CHOICES, blank=True,
        help_text=_("Sets the interval of gas channels: daily, hourly or every 10 minutes (AMI-44)."),
    )  # fmt: skip
    active = models.BooleanField(_("active"), default=True)  # AMI-04
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        ordering = ["subject_id", "serial_number"]
        constraints = [
            # The intake finds a meter by the head-end's subject and the serial number it sends.
            models.UniqueConstraint(
                fields=["subject", "serial_number"], name="ami_meter_subject_serial_unique"
            ),
            models.CheckConstraint(
                condition=(Q(energy="gas") & ~Q(gas_band="")) | (~Q(energy="gas") & Q(gas_band="")),
                name="ami_meter_gas_band_iff_gas",
            ),
            models.CheckConstraint(
                condition=Q(verified_on__isnull=True)
                | Q(verification_due__isnull=True)
                | Q(verification_due__gt=models.F("verified_on")),
                name="ami_meter_verification_due_after_verified",
            ),
        ]
        indexes = [
            models.Index(fields=["verification_due"], name="ami_meter_verif_due_idx"),
            models.Index(fields=["serial_number"], name="ami_meter_serial_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.serial_number} ({self.get_meter_type_display()})"

    def clean(self) -> None:
        if self.energy == catalog.Energy.GAS and not self.gas_band:
            raise ValidationError({"gas_band": _("a gas meter needs its consumption band (AMI-44)")})
        if self.energy != catalog.Energy.GAS and self.gas_band:
            raise ValidationError({"gas_band": _("only gas meters have a consumption band")})
        if self.verified_on and self.verification_due and self.verification_due <= self.verified_on:
            raise ValidationError({"verification_due": _("the next verification comes after the last one")})

    @property
    def store_device_id(self) -> str:
        """The readings store's device_id: the registry id, stable across serial-number typos fixed later."""
        return str(self.pk)


class Channel(models.Model):
    """One measured quantity of a meter; its interval follows the energy and gas band."""

    meter = models.ForeignKey(
        Meter, verbose_name=_("meter"), on_delete=models.CASCADE, related_name="channels"
    )
    code = models.CharField(_("quantity"), max_length=8, choices=QUANTITY_CHOICES)
    unit = models.CharField(_("unit"), max_length=16)
    obis = models.CharField(_("OBIS code"), max_length=32, blank=True, help_text=_("A-B:C.D.E*F (MTR-02)."))
    interval = models.CharField(_("interval"), max_length=8, choices=INTERVAL_CHOICES)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["meter_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["meter", "code"], name="ami_channel_meter_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.meter_id}/{self.code}"

    def clean(self) -> None:
        quantity = catalog.QUANTITIES.get(self.code)
        if quantity is None:
            raise ValidationError({"code": _("not a quantity of the ami/1 catalogue")})
        meter = self.meter if self.meter_id else None
        if meter is not None and quantity.energy != meter.energy:
            raise ValidationError(
                {"code": f"{self.code} is a {quantity.energy} quantity; the meter is {meter.energy}"}
            )
        if quantity.energy == catalog.Energy.ELECTRICITY:
            if not self.obis:
                raise ValidationError({"obis": _("electricity channels carry their OBIS code (MTR-02)")})
            problem = obis_problem(self.obis, self.code)
            if problem:
                raise ValidationError({"obis": problem})
        elif self.obis:
            raise ValidationError({"obis": _("OBIS codes are kept for electricity channels only")})
        if self.unit and self.unit != quantity.unit:
            raise ValidationError({"unit": f"{self.code} is measured in {quantity.unit}"})
        if meter is not None:
            expected = catalog.channel_interval(
                catalog.Energy(meter.energy), catalog.GasBand(meter.gas_band) if meter.gas_band else None
            )
            if self.interval and self.interval != expected:
                raise ValidationError({"interval": f"this meter's {self.code} is reported every {expected}"})


class HeadEndSystem(models.Model):
    """A utility's metering head-end: authenticates REST batches and owns an MQTT topic prefix."""

    name = models.SlugField(
        _("name"), max_length=40, unique=True,
        help_text=_("Used in MQTT topics egsu/ami/v1/<name>/batches and in answers."),
    )  # fmt: skip
    subject = models.ForeignKey(
        Subject, verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField(
        _("token hash"), max_length=64, unique=True, editable=False,
        help_text=_("sha256 of the bearer token; the token itself is shown once and never stored."),
    )  # fmt: skip
    token_prefix = models.CharField(_("token prefix"), max_length=12, editable=False)
    mqtt_username = models.CharField(_("MQTT username"), max_length=64, blank=True)
    mqtt_password_hash = models.CharField(
        _("MQTT password hash"), max_length=200, blank=True, editable=False,
        help_text=_("The broker's hash of the bearer token, which is also the MQTT password."),
    )  # fmt: skip
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("head-end system")
        verbose_name_plural = _("head-end systems")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MeterEvent(models.Model):
    """An event or alarm a meter registered, as its head-end reported it (MTR-06..10)."""

    meter = models.ForeignKey(Meter, verbose_name=_("meter"), on_delete=models.CASCADE, related_name="events")
    code = models.PositiveSmallIntegerField(_("code"), choices=[(c.value, c.name) for c in MeterEventCode])
    occurred_at = models.DateTimeField(_("occurred"), help_text=_("The meter's own time stamp (UTC)."))
    phase = models.PositiveSmallIntegerField(_("phase"), default=0, help_text=_("0 when not per phase."))
    value = models.DecimalField(_("value"), max_digits=27, decimal_places=12, null=True, blank=True)
    details = models.CharField(_("details"), max_length=200, blank=True)
    alarm = models.BooleanField(_("alarm"), default=False)
    batch_id = models.CharField(_("batch"), max_length=64)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("meter event")
        verbose_name_plural = _("meter events")
        ordering = ["-occurred_at"]
        constraints = [
            # A re-sent event (MTR-10: meters re-send after an outage) is stored once.
            models.UniqueConstraint(
                fields=["meter", "code", "occurred_at", "phase"], name="ami_event_meter_code_time_unique"
            ),
            models.CheckConstraint(condition=Q(phase__lte=3), name="ami_event_phase_0_3"),
        ]
        indexes = [models.Index(fields=["alarm", "occurred_at"], name="ami_event_alarm_time_idx")]

    def __str__(self) -> str:
        return f"{self.meter_id} {MeterEventCode(self.code).name} {self.occurred_at.isoformat()}"

    @staticmethod
    def is_alarm(code: int) -> bool:
        return MeterEventCode(code) in ALARMS


class MeterState(models.Model):
    """The newest reported state of a meter (COL-07): relay, link, battery, valve, clock."""

    meter = models.OneToOneField(
        Meter, verbose_name=_("meter"), on_delete=models.CASCADE, primary_key=True, related_name="state"
    )
    reported_at = models.DateTimeField(_("reported"))
    relay = models.CharField(_("relay"), max_length=3, blank=True)
    relay_reason = models.CharField(_("relay reason"), max_length=40, blank=True)
    online = models.BooleanField(_("online"), null=True)
    battery_low = models.BooleanField(_("battery low"), null=True)
    valve = models.CharField(_("valve"), max_length=6, blank=True)
    clock_offset_s = models.IntegerField(_("clock offset, s"), null=True, blank=True)
    batch_id = models.CharField(_("batch"), max_length=64)

    class Meta:
        verbose_name = _("meter state")
        verbose_name_plural = _("meter states")

    def __str__(self) -> str:
        return f"{self.meter_id} at {self.reported_at.isoformat()}"


class AmiBatch(models.Model):
    """One accepted batch and the answer given: a replay of the same id gets the same answer."""

    class Transport(models.TextChoices):
        REST = "rest", "REST"
        MQTT = "mqtt", "MQTT"

    head_end = models.ForeignKey(
        HeadEndSystem, verbose_name=_("head-end"), on_delete=models.PROTECT, related_name="batches"
    )
    batch_id = models.CharField(_("batch id"), max_length=64)
    digest = models.CharField(_("content sha256"), max_length=64)
    transport = models.CharField(_("transport"), max_length=4, choices=Transport.choices)
    received = models.PositiveIntegerField(_("items received"))
    stored = models.PositiveIntegerField(_("items stored"))
    refused = models.PositiveIntegerField(_("items refused"))
    answer = models.JSONField(_("answer"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("AMI batch")
        verbose_name_plural = _("AMI batches")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["head_end", "batch_id"], name="ami_batch_head_end_id_unique")
        ]

    def __str__(self) -> str:
        return f"{self.head_end_id}:{self.batch_id}"
