"""Outgoing e-mail: a durable outbox delivered by the worker with retries (docs/jobs.md)."""
