"""The other apps' choice labels as the HQ pages show them: translated at render time.

The models keep their labels in plain English (they are also the admin's and the API
schema's); the literals below put each one in the HQ message catalogue, and `localized`
looks a label up in the active language.
"""

from collections.abc import Iterable

from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop

CHOICE_LABELS = (
    # accounts.Role
    gettext_noop("Sales rep"),
    gettext_noop("Regional manager"),
    gettext_noop("Headquarters"),
    # stores.StoreStatus, TradeAreaType, Grade
    gettext_noop("Prospect"),
    gettext_noop("Active"),
    gettext_noop("Dormant"),
    gettext_noop("Churned"),
    gettext_noop("Office"),
    gettext_noop("Residential"),
    gettext_noop("Transit hub"),
    gettext_noop("School"),
    gettext_noop("Hospital"),
    gettext_noop("Industrial"),
    gettext_noop("Tourist"),
    gettext_noop("Mixed"),
    gettext_noop("A (key account)"),
    # surveys.Equipment
    gettext_noop("Coffee machine"),
    gettext_noop("Microwave"),
    gettext_noop("Open chiller"),
    gettext_noop("Freezer"),
    gettext_noop("Hot food cabinet"),
    gettext_noop("Oven"),
    gettext_noop("Bake-off station"),
    gettext_noop("Seating"),
    # surveys.PhotoSection
    gettext_noop("Storefront"),
    gettext_noop("Interior"),
    gettext_noop("Fresh shelf"),
    gettext_noop("Surroundings"),
    gettext_noop("Other"),
    # tasks.TaskStatus
    gettext_noop("Open"),
    gettext_noop("Accepted"),
    gettext_noop("In progress"),
    # surveys.CustomerGroup, SignalQuality
    gettext_noop("Office workers"),
    gettext_noop("Students"),
    gettext_noop("Residents"),
    gettext_noop("Commuters"),
    gettext_noop("Tourists"),
    gettext_noop("Industrial workers"),
    gettext_noop("Patients and visitors"),
    gettext_noop("Families"),
    gettext_noop("No signal"),
    gettext_noop("Poor"),
    gettext_noop("Fair"),
    gettext_noop("Good"),
    gettext_noop("Excellent"),
    # surveys.ReviewStatus, ReviewVerdict, ReviewReason
    gettext_noop("Pending review"),
    gettext_noop("Approved"),
    gettext_noop("Has issues"),
    gettext_noop("Rejected"),
    gettext_noop("Missing"),
    gettext_noop("Implausible value"),
    gettext_noop("Photo unclear"),
    # tasks.TaskType
    gettext_noop("Site survey"),
    gettext_noop("Visit"),
    gettext_noop("New product"),
    gettext_noop("Reactivation"),
    gettext_noop("Fix a reviewed survey"),
    gettext_noop("Callback"),
)

localized_label = lazy(lambda label: gettext(str(label)), str)


def localized(choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Form choices whose labels follow the language of the request that renders them."""
    return [(value, localized_label(label)) for value, label in choices]
