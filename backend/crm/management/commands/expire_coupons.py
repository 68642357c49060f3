"""Expire claimed coupons past their use window and release their value to the budget
(the `crm.jobs.expire_coupons` job does the same every quarter hour; this runs it by hand)."""

from django.core.management.base import BaseCommand

from crm.subsidies.services import coupons_expire


class Command(BaseCommand):
    help = "Expire coupons past their use window (and grace) and release what they reserved."

    def handle(self, *args, **options) -> None:
        total = 0
        while expired := coupons_expire():
            total += expired
        self.stdout.write(f"{total} coupons expired")
