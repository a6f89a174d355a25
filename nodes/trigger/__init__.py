"""Built-in trigger nodes."""
