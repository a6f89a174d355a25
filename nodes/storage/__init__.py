"""Built-in storage nodes."""
