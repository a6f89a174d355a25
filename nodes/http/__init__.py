"""Built-in http nodes."""
