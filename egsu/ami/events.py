"""The catalogue of meter events and alarms that head-ends report (Tech.req. device tables).

Plain Python. Codes are grouped by hundreds; the wire carries the name (or the number).
Sources: MTR-06/08/09 (tamper, clock, battery, watchdog, firmware), MTR-13/14 (threshold and
limit crossings and returns), MTR-16..21 (relay), MTR-19 (last gasp), MTR-22 (clock sync).
"""

from __future__ import annotations

from enum import IntEnum


class MeterEventCode(IntEnum):
    # 1xx tampering (MTR-06, MTR-08, MTR-09, MTR-26)
    COVER_OPENED = 101
    COVER_CLOSED = 102
    TERMINAL_COVER_OPENED = 103
    TERMINAL_COVER_CLOSED = 104
    MAGNETIC_FIELD = 105
    ELECTROSTATIC_DISCHARGE = 106
    OPTICAL_PORT_ACCESS = 107
    UNAUTHORISED_INTERFACE_ACCESS = 108
    CONFIGURATION_CHANGED = 109
    # 2xx clock and power (MTR-09, MTR-19, MTR-22, MTR-28)
    CLOCK_FAILURE = 201
    CLOCK_SYNCHRONISED = 202
    LOW_BATTERY = 203
    POWER_DOWN = 204  # last gasp
    POWER_UP = 205
    # 3xx relay (MTR-16..MTR-21); commands are the head-end's, results are recorded here
    RELAY_OFF_REMOTE = 301
    RELAY_ON_REMOTE = 302
    RELAY_OFF_LIMIT = 303
    RELAY_OFF_TAMPER = 304
    RELAY_OFF_PREPAYMENT = 305
    RELAY_ON_LOCAL = 306
    RELAY_READY_TO_RECONNECT = 307
    RELAY_COMMAND_FAILED = 308
    # 4xx thresholds and limits (MTR-13, MTR-14)
    THRESHOLD_EXCEEDED = 401
    THRESHOLD_RETURNED = 402
    LIMIT_EXCEEDED = 403
    LIMIT_RETURNED = 404
    OVERLOAD = 405
    # 5xx network and phases (MTR-08, MTR-09)
    VOLTAGE_HIGH = 501
    VOLTAGE_LOW = 502
    PHASE_VOLTAGE_ABSENT = 503
    WRONG_PHASE_CONNECTION = 504
    WRONG_PHASE_NEUTRAL = 505
    DIFFERENTIAL_CURRENT = 506
    REVERSE_CURRENT = 507
    # 6xx the device itself (MTR-09)
    WATCHDOG_RESTART = 601
    FIRMWARE_UPDATE_ERROR = 602
    MEASUREMENT_COEFFICIENT_ERROR = 603
    MEMORY_ERROR = 604
    # 7xx gas and heat devices (AMI-43, AMI-45, MTR-35)
    VALVE_OPENED = 701
    VALVE_CLOSED = 702
    LEAK_DETECTED = 703
    SENSOR_FAULT = 704


# Alarms reach users at once (AMI-13); the rest are recorded events.
ALARMS: frozenset[MeterEventCode] = frozenset(
    {
        MeterEventCode.COVER_OPENED,
        MeterEventCode.TERMINAL_COVER_OPENED,
        MeterEventCode.MAGNETIC_FIELD,
        MeterEventCode.ELECTROSTATIC_DISCHARGE,
        MeterEventCode.UNAUTHORISED_INTERFACE_ACCESS,
        MeterEventCode.CLOCK_FAILURE,
        MeterEventCode.LOW_BATTERY,
        MeterEventCode.RELAY_OFF_TAMPER,
        MeterEventCode.RELAY_COMMAND_FAILED,
        MeterEventCode.THRESHOLD_EXCEEDED,
        MeterEventCode.LIMIT_EXCEEDED,
        MeterEventCode.OVERLOAD,
        MeterEventCode.PHASE_VOLTAGE_ABSENT,
        MeterEventCode.WRONG_PHASE_CONNECTION,
        MeterEventCode.WRONG_PHASE_NEUTRAL,
        MeterEventCode.WATCHDOG_RESTART,
        MeterEventCode.FIRMWARE_UPDATE_ERROR,
        MeterEventCode.MEASUREMENT_COEFFICIENT_ERROR,
        MeterEventCode.MEMORY_ERROR,
        MeterEventCode.LEAK_DETECTED,
        MeterEventCode.SENSOR_FAULT,
    }
)


def event_code(raw: object) -> MeterEventCode:
    """Read a code as sent: its name ("COVER_OPENED") or its number (101)."""
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not an event code")
    if isinstance(raw, int):
        return MeterEventCode(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if text.isdigit():
            return MeterEventCode(int(text))
        try:
            return MeterEventCode[text.upper()]
        except KeyError:
            raise ValueError(f"{raw!r} is not an event code of the ami/1 catalogue") from None
    raise ValueError(f"{raw!r} is not an event code")


# The event that ends an alarming condition (the meter's own "restore"): it closes the alarm the
# first one opened (MON-07). Alarms without a counterpart stay open until a person closes them.
CLEARED_BY: dict[MeterEventCode, MeterEventCode] = {
    MeterEventCode.COVER_OPENED: MeterEventCode.COVER_CLOSED,
    MeterEventCode.TERMINAL_COVER_OPENED: MeterEventCode.TERMINAL_COVER_CLOSED,
    MeterEventCode.CLOCK_FAILURE: MeterEventCode.CLOCK_SYNCHRONISED,
    MeterEventCode.THRESHOLD_EXCEEDED: MeterEventCode.THRESHOLD_RETURNED,
    MeterEventCode.LIMIT_EXCEEDED: MeterEventCode.LIMIT_RETURNED,
    MeterEventCode.RELAY_OFF_TAMPER: MeterEventCode.RELAY_ON_REMOTE,
}
CLEARS: dict[MeterEventCode, MeterEventCode] = {restore: opened for opened, restore in CLEARED_BY.items()}

# Tampering and leaks need someone at once (AMI-13); every other alarm is a warning.
CRITICAL: frozenset[MeterEventCode] = frozenset(
    {
        MeterEventCode.COVER_OPENED,
        MeterEventCode.TERMINAL_COVER_OPENED,
        MeterEventCode.MAGNETIC_FIELD,
        MeterEventCode.RELAY_OFF_TAMPER,
        MeterEventCode.LEAK_DETECTED,
    }
)
