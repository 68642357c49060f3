"""The crm jobs live in their sub-domain packages but answer to the names they were queued
under before (`crm.jobs.<name>`): messages already in the broker must find their task."""

from fieldline.celery import app

QUEUED_NAMES = {
    "crm.jobs.analytics_recompute_job": "crm.analytics.jobs",
    "crm.jobs.call_queues_generate_job": "crm.calls.jobs",
    "crm.jobs.expire_coupons": "crm.subsidies.jobs",
    "crm.jobs.run_order_import": "crm.orders.jobs",
}


def test_the_crm_jobs_keep_the_names_they_were_queued_under():
    app.loader.import_default_modules()
    for name, module in QUEUED_NAMES.items():
        assert name in app.tasks, name
        assert app.tasks[name].run.__module__ == module
