"""E-mail notifications: an outbox table and an SMTP sender that runs in the scheduler."""
