"""Every periodic job of the System, in ONE place: name → schedule → task (docs/jobs.md).

Add a line here to add a periodic job; the scheduler (`egsu scheduler`, or `egsu worker --schedule`)
queues each once per period, however many of them run. Times of `Daily` are Astana time.
"""

from __future__ import annotations

from datetime import timedelta

from egsu.jobs.periods import Daily, Every
from egsu.jobs.registry import Periodic

SCHEDULE: list[Periodic] = [
    # The worker pool is alive and the scheduler ticks: readiness checks read the last one's finish.
    Periodic("jobs.heartbeat", Every(minutes=1), "egsu.jobs.tasks.heartbeat"),
    # Retention (INT-36: the journal keeps 3 years; the audit trail at least 12 months).
    Periodic("journal.retention", Daily("02:30"), "egsu.journal.tasks.purge_expired"),
    Periodic("audit.retention", Daily("02:40"), "egsu.access.tasks.purge_expired"),
    Periodic("jobs.prune", Daily("02:50"), "egsu.jobs.tasks.prune"),
    # Exports (≥ 1 month), AMI batch records (≥ 12 months), readings per the operator's policy (≥ 3 years).
    Periodic("ops.retention", Daily("03:10"), "egsu.ops.tasks.purge_expired"),
    # Claimed ClickHouse rows a dead or failed writer left (ADR 0013), inserted even when nobody writes.
    Periodic("readings.recover-claims", Every(minutes=1), "egsu.readings.tasks.recover_claims"),
    # Backups (DIG-13, DIG-27): a dated, checksummed archive; the newest EGSU_BACKUP_KEEP are kept.
    Periodic("ops.backup", Daily("01:30"), "egsu.ops.tasks.backup"),
    # ClickHouse writes claimed but not inserted (an outage, a writer that died) are finished (ADR 0013).
    # Outgoing mail: deliveries that failed are retried when due; a safety net behind each send's own job.
    Periodic("mail.deliver-due", Every(minutes=1), "egsu.mail.tasks.deliver_due"),
    Periodic("mail.prune", Daily("03:00"), "egsu.mail.tasks.prune"),
    # Regular reports (ANA-07): yesterday's, last month's and last quarter's, once each; mailed to subscribers.
    Periodic(
        "reports.regular", Daily("06:00"), "egsu.reporting.tasks.build_regular_reports", with_period=True
    ),
    # Open data (ACC-14): the complete months' aggregates, re-published daily in the portal's form.
    Periodic("opendata.publish", Daily("05:00"), "egsu.opendata.tasks.publish"),
    # Information requests (ACC-16): packages past their time are removed.
    Periodic("inforequests.expire", Every(hours=1), "egsu.inforequests.tasks.expire_packages"),
    # Alarms (MON-05, INT-10, DIG-45): missing data within 3 hours, verification dates, the daily digest.
    Periodic("alarms.missing-data", Every(minutes=15), "egsu.alarms.tasks.evaluate_missing_data"),
    Periodic("alarms.digest", Daily("07:00"), "egsu.alarms.tasks.daily_digest", with_period=True),
    # Data quality (VEE, issue 14): the rule catalogue over the values of the last days; alarms "vee".
    Periodic("vee.rules", Every(hours=1), "egsu.vee.tasks.run_rules"),
    # Balances (Tech.req. §7): yesterday's oil and gas and energy balances; alarms "balance".
    Periodic("balances.daily", Daily("07:00"), "egsu.balances.tasks.daily_balances"),
    # Feedback (GEN-07): last month's counts by page and topic.
    Periodic(
        "feedback.monthly-summary", Daily("04:00"), "egsu.feedback.tasks.monthly_summary", with_period=True
    ),
    # Scheme agreement (OGM-05): reminders and alarms before and at the 30-working-day deadline.
    Periodic("schemes.review-deadlines", Daily("07:00"), "egsu.schemes.tasks.watch_review_deadlines"),
    # Overdue verification, replacement of failed devices and equipping of obligated objects (OGM-07/09, DIG-45).
    Periodic("schemes.metrology", Daily("07:10"), "egsu.schemes.tasks.watch_metrology"),
    # Forecasts (ANA-01, ANA-10, PRC-06): every level and energy retrained weekly (Every's periods start on
    # Saturdays 00:00 UTC; +46 h: Sunday 22:00 UTC, Monday 03:00 Astana), a new forecast of each daily,
    # scored hourly once its period arrived (with the anomalies it shows), recommendations daily.
    Periodic(
        "analytics.retrain", Every(hours=168, offset=timedelta(hours=46)), "egsu.analytics.tasks.retrain"
    ),
    Periodic("analytics.forecast", Daily("06:30"), "egsu.analytics.tasks.forecast"),
    Periodic("analytics.score", Every(hours=1, offset=timedelta(minutes=20)), "egsu.analytics.tasks.score"),
    Periodic("analytics.advise", Daily("07:30"), "egsu.analytics.tasks.advise"),
    # Weather (ANA-03, PRC-07): the configured provider's observations and forecasts, per region.
    Periodic(
        "analytics.weather", Every(hours=1, offset=timedelta(minutes=5)), "egsu.analytics.tasks.fetch_weather"
    ),
]
