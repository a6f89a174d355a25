"""Polling triggers: trigger.rss (a feed polled on a schedule) and trigger.imap (a mailbox watched
with IDLE, or polled). Publishing a workflow registers a poller per such node (sync.py); the
app's FeedRuntime (runtime.py) claims and runs them; docs/triggers.md#feeds-and-mailboxes."""
