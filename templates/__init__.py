"""The template gallery (filled by the template gallery issue)."""
