"""/api/ai: provider credentials (owner only, keys write-only), budgets, usage reports, provider health."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, delete, get, put
from litestar.params import Parameter
from litestar.status_codes import HTTP_204_NO_CONTENT
from sqlalchemy.ext.asyncio import AsyncSession

from backend.ai import services
from backend.ai.schemas import AiHealthOut, BudgetIn, BudgetOut, CredentialIn, CredentialOut, GroupBy, ModelChainsOut, \
    ProviderHealthOut, UsageRowOut
from backend.ai.services import forget_keys
from backend.ai.store import ai_config
from backend.auth.guards import requires_owner
from backend.auth.schemas import Principal
from backend.credentials.envelope import Keyring


def _keyring(request: Request) -> Keyring:
    return Keyring.from_settings(request.app.state.settings)


class AIController(Controller):
    path = "/api/ai"
    tags = ["ai"]

    @get("/credentials", operation_id="listAiCredentials", guards=[requires_owner])
    async def list_credentials(self, request: Request, principal: Principal, db_session: AsyncSession) -> list[CredentialOut]:
        """The tenant's provider credentials: provider, base URL and the key's last 4 characters, never the key."""
        return await services.list_credentials(db_session, principal.tenant_id, _keyring(request))

    @put("/credentials/{provider:str}", operation_id="putAiCredential", guards=[requires_owner])
    async def put_credential(self, request: Request, provider: str, data: CredentialIn, principal: Principal,
                             db_session: AsyncSession) -> CredentialOut:
        """Set the tenant's key (and optional base URL) for openai, anthropic or compatible. Stored encrypted."""
        out = await services.put_credential(db_session, principal.tenant_id, provider,
                                            data,
                                            keyring=_keyring(request), created_by=principal.user_id)
        forget_keys(request.app.state, principal.tenant_id)
        return out

    @delete("/credentials/{provider:str}", operation_id="deleteAiCredential", guards=[requires_owner],
            status_code=HTTP_204_NO_CONTENT)
    async def delete_credential(self, request: Request, provider: str, principal: Principal,
                                db_session: AsyncSession) -> None:
        await services.delete_credential(db_session, principal.tenant_id, provider)
        forget_keys(request.app.state, principal.tenant_id)

    @get("/models", operation_id="getAiModelChains")
    async def model_chains(self, request: Request, principal: Principal, db_session: AsyncSession) -> ModelChainsOut:
        """The workspace's tier and the models its AI nodes try in order (and every tier's chain), with whose key each would use."""
        config = ai_config(request.app.state.settings)
        return await services.model_chains(db_session, principal.tenant_id, config.tier_models,
                                           set(config.operator_credentials))

    @get("/budget", operation_id="getAiBudget")
    async def get_budget(self, principal: Principal, db_session: AsyncSession) -> BudgetOut:
        """This month's limits and spend."""
        return await services.get_budget(db_session, principal.tenant_id)

    @put("/budget", operation_id="putAiBudget", guards=[requires_owner])
    async def put_budget(self, data: BudgetIn, principal: Principal, db_session: AsyncSession) -> BudgetOut:
        """Set the monthly budget (USD) and call quota; null removes a limit."""
        return await services.put_budget(db_session, principal.tenant_id, data)

    @get("/usage", operation_id="getAiUsage")
    async def usage(self, principal: Principal, db_session: AsyncSession, group_by: GroupBy = "day",
                    since: datetime | None = Parameter(default=None), until: datetime | None = Parameter(default=None),
                    ) -> list[UsageRowOut]:
        """Calls, cache hits, errors, tokens and cost, grouped by workflow, model, day, provider, node type, or day and model (day_model)."""
        rows = await services.usage_report(db_session, principal.tenant_id, group_by, since, until)
        return [UsageRowOut(**r) for r in rows]

    @get("/health", operation_id="getAiHealth")
    async def health(self, request: Request, principal: Principal) -> AiHealthOut:
        """The tenant's tier and provider chain, and each provider's circuit state, error count and latency."""
        gw = getattr(request.app.state, "ai", None)
        if gw is None:
            return AiHealthOut(tier=None, chain=[], providers=[])
        tier = await gw.store.tier(principal.tenant_id)
        return AiHealthOut(tier=tier, chain=gw.config.tier_models.get(tier, []),
                           providers=[ProviderHealthOut(**h) for h in gw.health()])
