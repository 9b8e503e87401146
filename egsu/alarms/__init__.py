"""Alarms: conditions the System notices, with a lifecycle (MON-05..08, PRC-01..05).

One alarm per condition (`source` + `key`): raised by whoever notices it (meter events, data
quality, missing data, balances, deadlines), folded when it repeats, acknowledged by a person,
closed when the condition clears and reopened when it returns. `egsu.alarms.services` is the only
way in; `alarm_changed` tells notifications, reports and metrics.
"""
