"""The audit trail: who changed, published, restored, ran, cancelled and approved what.

Services call `record(s, principal, action, target_type, target_id, details)` (services.py) inside the
request's transaction, so an action and its audit row commit (or roll back) together.
`GET /api/audit` lists a tenant's events for its owners, newest first, filtered by
action, target, actor and time. Rows are never updated; they outlive what they name.

Actions so far (docs/operations.md): workflow.create, workflow.update, workflow.delete,
workflow.publish, workflow.unpublish, workflow.restore, workflow.mcp, run.start, run.cancel, run.pause, run.resume,
run.approve, run.reject, run.retry, run.rerun; accounts and workspaces: auth.signup,
auth.login, auth.logout, auth.password_change, auth.password_reset, session.revoke,
workspace.create, workspace.rename, workspace.switch, workspace.set_tier, token.create,
token.revoke; members: member.role_change, member.remove, invitation.create,
invitation.resend, invitation.revoke, invitation.accept.
"""

from backend.audit.services import record

__all__ = ["record"]
