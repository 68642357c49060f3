"""`manage.py seed_demo`: the demo data set of API.md, "Demo data"."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from demo.seeding import (
    DEFAULT_PASSWORD,
    DEFAULT_REPS_PER_REGION,
    DEFAULT_SEED,
    DEFAULT_STORES,
    DemoSummary,
    database_has_data,
    reset_demo_data,
    seed_demo,
)

LEFT_ALONE = "database already has data; leaving it"


class Command(BaseCommand):
    help = (
        "Fill the database with a deterministic demo data set: regions north (Hamburg) and "
        "south (Munich), their people, stores, surveys, visits, tasks and orders, then the "
        "office's day: analytics, call queues, a tag rule, subsidy budgets, a campaign."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=DEFAULT_STORES)
        parser.add_argument("--reps-per-region", type=int, default=DEFAULT_REPS_PER_REGION)
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help="The password of every demo user."
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Same seed, same data.")
        existing = parser.add_mutually_exclusive_group()
        existing.add_argument(
            "--reset",
            action="store_true",
            help="Delete ALL Fieldline data (users and regions included) first.",
        )
        existing.add_argument(
            "--if-empty",
            action="store_true",
            help="When the database already has data, leave it and exit successfully.",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo runs only with DEBUG on: it creates users with a known password."
            )
        if options["stores"] < 1 or options["reps_per_region"] < 1:
            raise CommandError("--stores and --reps-per-region must be at least 1.")
        if not options["password"]:
            raise CommandError("--password must not be empty.")
        if database_has_data():
            if options["if_empty"]:
                self.stdout.write(LEFT_ALONE)
                return
            if not options["reset"]:
                raise CommandError(
                    "The database already has data (users, regions or stores). Use --reset "
                    "to delete all of it and seed again, or --if-empty to leave it as it is."
                )
        started = time.perf_counter()
        with transaction.atomic():
            if options["reset"]:
                reset_demo_data()
            summary = seed_demo(
                stores=options["stores"],
                reps_per_region=options["reps_per_region"],
                password=options["password"],
                seed=options["seed"],
                progress=options["verbosity"] > 0 and self.stdout.isatty(),
            )
        self.stdout.write(
            self.style.SUCCESS(describe(summary, seconds=time.perf_counter() - started))
        )
        shown = options["password"] if options["password"] == DEFAULT_PASSWORD else "as given"
        reps = options["reps_per_region"]
        self.stdout.write(
            f"Users: hq, manager-north, manager-south, rep-north-1..{reps}, "
            f"rep-south-1..{reps}; password: {shown}"
        )


def describe(summary: DemoSummary, *, seconds: float) -> str:
    office = summary.office
    return (
        f"Seeded in {seconds:.1f} s: {summary.regions} regions, {summary.users} users, "
        f"{summary.stores:,} stores, {summary.survey_templates} survey templates, "
        f"{summary.surveys:,} surveys, {summary.photos:,} photos, "
        f"{summary.visits:,} visits, {summary.followups:,} follow-ups, {summary.tasks:,} tasks, "
        f"{summary.orders:,} orders ({summary.order_lines:,} lines).\n"
        f"Office: {office.segmented_stores:,} stores segmented, {office.churn_warnings:,} churn "
        f"warnings, {office.calls:,} calls queued ({office.calls_done} worked), "
        f"{office.tag_rules} tag rule, {office.budgets} subsidy budgets, "
        f"{office.coupons} coupons claimed, {office.planned_visits:,} planned visits "
        f"({office.plan_visits_made:,} made so far)."
    )
