"""The credential vault (issue 15): workspace-scoped secrets, sealed at rest, resolved by nodes at run time."""
