"""Expire claimed coupons past their use window and release their value to the budget
(the worker's `process_jobs` does the same on every pass; this runs it by hand)."""

from django.core.management.base import BaseCommand

from crm.subsidy_services import coupons_expire


class Command(BaseCommand):
    help = "Expire coupons past their use window (and grace) and release what they reserved."

    def handle(self, *args, **options) -> None:
        total = 0
        while expired := coupons_expire():
            total += expired
        self.stdout.write(f"{total} coupons expired")
