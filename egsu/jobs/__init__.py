"""Background jobs: a durable queue in the database, `egsu worker` processes, periodic jobs (docs/jobs.md)."""
