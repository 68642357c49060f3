"""Periodic job: raise reminders for follow-ups due soon (run it daily, e.g. from cron)."""

from django.core.management.base import BaseCommand

from visits.services import followup_reminders_raise


class Command(BaseCommand):
    help = "Raise a reminder for each open follow-up due within the lead time, once."

    def handle(self, *args, **options) -> None:
        raised = followup_reminders_raise()
        self.stdout.write(f"{raised} reminders raised")
