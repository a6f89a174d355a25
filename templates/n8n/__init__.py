"""Import of n8n workflow exports (docs/integrations.md, "Import from n8n"): pure mapping code,
no I/O. backend/workflows/n8n.py stores the result."""

from templates.n8n.convert import N8nImport, convert
from templates.n8n.document import N8nExportError

__all__ = ["N8nExportError", "N8nImport", "convert"]
