"""The MCP server at /mcp (server.py), which workflows it offers as tools (tools.py), and the
per-workflow `mcp_exposed` setting (controllers.py). See docs/integrations.md#mcp."""
