"""Triggers: webhooks, cron schedules and workflow chains that start runs (docs/triggers.md)."""
