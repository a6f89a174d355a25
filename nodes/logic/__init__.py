"""Built-in logic nodes."""
