"""Approval nodes: a person decides before the run goes on."""
