"""The `crm` app's background jobs, for Celery's discovery (it imports each app's `jobs`).

Each sub-domain keeps its jobs in its own package; their task names stay `crm.jobs.<name>`
(an explicit `name=`), so the beat schedule and messages queued before the jobs moved into
the packages still resolve.
"""

from crm.analytics.jobs import analytics_recompute_job
from crm.calls.jobs import call_queues_generate_job
from crm.orders.jobs import run_order_import
from crm.subsidies.jobs import expire_coupons

__all__ = [
    "analytics_recompute_job",
    "call_queues_generate_job",
    "expire_coupons",
    "run_order_import",
]
