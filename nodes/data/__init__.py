"""Built-in data nodes."""
