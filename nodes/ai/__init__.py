"""AI nodes. Every node of category `ai` is an enhancement point (docs/ai.md: a deterministic
baseline, a model when the tier allows) except those below, which call no model."""

NOT_ENHANCEMENTS = frozenset({"ai.mcp_tool"})   # an integration: calls a tool of an MCP server
