"""Built-in chat nodes: Slack, Discord and Microsoft Teams messages."""
