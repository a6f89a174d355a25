"""Approvals by link: the public page where an approver mailed by approval.wait decides without an account."""
