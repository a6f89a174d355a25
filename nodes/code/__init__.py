"""Code nodes: a user's function run in a sandboxed interpreter with no I/O (code.javascript)."""
