"""AI gateway wiring: credentials, budgets, usage ledger and cache on the database; the API."""
