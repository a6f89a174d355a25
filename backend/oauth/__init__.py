"""OAuth2 for the credential vault: the client (tokens) and the connect flow (docs/credentials.md)."""
