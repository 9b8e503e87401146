"""Pages of the access app: user management, the audit log, and the own-password page."""
