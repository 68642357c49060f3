"""`manage.py generate_call_queues`: the periodic call-queue fill, from the shell."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.calls.services import call_queues_generate


class Command(BaseCommand):
    help = "Expire stale calls; queue surveys by phone and new-customer callbacks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="YYYY-MM-DD (default: today).")

    def handle(self, *args, **options) -> None:
        try:
            today = dt.date.fromisoformat(options["today"]) if options["today"] else None
        except ValueError as error:
            raise CommandError("--today must be a date, YYYY-MM-DD.") from error
        report = call_queues_generate(today=today)
        self.stdout.write(
            f"{report.expired} expired, {report.released} released, "
            f"{report.survey_by_phone} survey calls, "
            f"{report.new_customer_callback} new-customer callbacks queued"
        )
