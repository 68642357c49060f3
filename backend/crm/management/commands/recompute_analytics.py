"""`manage.py recompute_analytics`: `POST /api/analytics/recompute` from the shell."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.analytics.services import analytics_recompute


class Command(BaseCommand):
    help = "Recompute RFM segments, ABC grades, tags and churn warnings of every store."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: today).")

    def handle(self, *args, **options) -> None:
        try:
            as_of = dt.date.fromisoformat(options["as_of"]) if options["as_of"] else None
        except ValueError as error:
            raise CommandError("--as-of must be a date, YYYY-MM-DD.") from error
        run = analytics_recompute(actor=None, as_of=as_of).run
        counts = run.counts
        self.stdout.write(
            f"run {run.pk} as of {run.parameters['as_of']}: {counts['stores']} stores, "
            f"{counts['stores_changed']} changed, {counts['churn_warnings']} churn warnings, "
            f"{counts['reactivation_tasks']} reactivation tasks, "
            f"{counts['reactivation_calls']} reactivation calls"
        )
