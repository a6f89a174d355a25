"""Built-in util nodes."""
