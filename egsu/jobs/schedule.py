"""Every periodic job of the System, in ONE place: name → schedule → task (docs/jobs.md).

Add a line here to add a periodic job; the scheduler (`egsu scheduler`, or `egsu worker --schedule`)
queues each once per period, however many of them run. Times of `Daily` are Astana time.
"""

from __future__ import annotations

from egsu.jobs.periods import Daily, Every
from egsu.jobs.registry import Periodic

SCHEDULE: list[Periodic] = [
    # The worker pool is alive and the scheduler ticks: readiness checks read the last one's finish.
    Periodic("jobs.heartbeat", Every(minutes=1), "egsu.jobs.tasks.heartbeat"),
    # Retention (INT-36: the journal keeps 3 years; the audit trail at least 12 months).
    Periodic("journal.retention", Daily("02:30"), "egsu.journal.tasks.purge_expired"),
    Periodic("audit.retention", Daily("02:40"), "egsu.access.tasks.purge_expired"),
    Periodic("jobs.prune", Daily("02:50"), "egsu.jobs.tasks.prune"),
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
    # Data quality (VEE, issue 14): the rule catalogue over the values of the last days; alarms "vee".
    Periodic("vee.rules", Every(hours=1), "egsu.vee.tasks.run_rules"),
    # Balances (Tech.req. §7): yesterday's oil and gas and energy balances; alarms "balance".
    Periodic("balances.daily", Daily("07:00"), "egsu.balances.tasks.daily_balances"),
    # Feedback (GEN-07): last month's counts by page and topic.
    Periodic(
        "feedback.monthly-summary", Daily("04:00"), "egsu.feedback.tasks.monthly_summary", with_period=True
    ),
]
