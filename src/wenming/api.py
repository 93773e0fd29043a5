"""Mounts each domain's router on the one API."""

from wenming.accounts.api import router as accounts_router
from wenming.activities.api import router as activities_router
from wenming.certificates.api import router as certificates_router
from wenming.core.api import api, audit_router
from wenming.demands.api import router as demands_router
from wenming.fund.api import router as fund_router
from wenming.households.api import router as households_router
from wenming.network.api import router as network_router
from wenming.notifications.api import router as notifications_router
from wenming.records.api import router as records_router
from wenming.volunteers.api import router as volunteers_router
from wenming.volunteers.teams.api import router as teams_router

api.add_router("/accounts", accounts_router)
api.add_router("/network", network_router)
api.add_router("/audit", audit_router)
api.add_router("/volunteers", volunteers_router)
api.add_router("/teams", teams_router)
api.add_router("/activities", activities_router)
api.add_router("/records", records_router)
api.add_router("/certificates", certificates_router)
api.add_router("/demands", demands_router)
api.add_router("/notifications", notifications_router)
api.add_router("/households", households_router)
api.add_router("/fund", fund_router)

__all__ = ["api"]
