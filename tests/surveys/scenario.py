"""A hand-computed completeness scenario shared by the survey and report tests.

Templates: office v1 (400 days ago), office v2 (100 days ago), residential v1 (100 days
ago). Each survey below lists the items of its template and which are present; EXPECTED
holds the score and the missing items worked out by hand.
"""

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone

from accounts.models import User
from surveys.models import SurveyTemplate
from sync.bulk import bulk_create_records
from tests.conftest import create

NORTH = (53.55, 9.99)
SOUTH = (48.14, 11.58)
ONE_KM_NORTH = (53.559, 9.99)

# survey: (score, missing) by hand
EXPECTED: dict[str, tuple[float | None, list[str]]] = {
    # office v1 by capture time (between v1 and v2): 4 items, equipment empty.
    "A": (0.75, ["equipment"]),
    # office v1 named explicitly, although v2 is current: all 4 items present.
    "B": (1.0, []),
    # office v2 by capture time: 9 items (fresh_shelf_m required: signal poor); no
    # area_m2, and the interior photo's bytes have not arrived.
    "C": (round(7 / 9, 4), ["area_m2", "photos.interior"]),
    # office v2: 8 items (signal good); no footfall slots, GPS 1 km from the store.
    "D": (0.75, ["footfall_slots", "gps"]),
    # residential v1 through the store's type: 2 items, no footfall.
    "E": (0.5, ["footfall_weekday"]),
    # residential v1 (captured before any template: the first version): no GPS.
    "F": (0.5, ["gps"]),
    # office v2, south: everything.
    "G": (1.0, []),
    # school: no template, no score.
    "H": (None, []),
}
VERSIONS = {"A": 1, "B": 1, "C": 2, "D": 2, "E": 1, "F": 1, "G": 2, "H": None}


def ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def photo(survey: uuid.UUID, section: str, *, uploaded: bool = True) -> None:
    bulk_create_records(
        entity="photo",
        rows=[
            {
                "id": uuid.uuid4(),
                "survey": survey,
                "section": section,
                "sha256": uuid.uuid4().hex * 2,
                "content_type": "image/jpeg",
            }
        ],
        extra={"uploaded_at": timezone.now(), "size_bytes": 1000} if uploaded else None,
    )


def template(hq: User, days_ago: float, **fields: Any) -> SurveyTemplate:
    # Test data at fixed ages; the API path (which stamps now) is tested separately.
    return SurveyTemplate.objects.create(created_by=hq, created_at=ago(days_ago), **fields)


def build(people: dict[str, User]) -> dict[str, Any]:
    hq = people["hq"]
    template(
        hq,
        400,
        trade_area_type="office",
        version=1,
        required_fields=["footfall_weekday", "equipment"],
        min_photos={"storefront": 1},
        gps_within_geofence=False,
    )
    template(
        hq,
        100,
        trade_area_type="office",
        version=2,
        required_fields=["footfall_weekday", "equipment", "area_m2", "signal_quality"],
        conditional_fields=[
            {"field": "footfall_slots", "when": {"field": "trade_area_type", "in": ["office"]}},
            {"field": "fresh_shelf_m", "when": {"field": "signal_quality", "in": ["poor"]}},
            {"field": "notes", "when": {"field": "trade_area_type", "in": ["transit"]}},
        ],
        min_photos={"storefront": 1, "interior": 1},
        gps_within_geofence=True,
    )
    template(
        hq,
        100,
        trade_area_type="residential",
        version=1,
        required_fields=["footfall_weekday"],
        gps_within_geofence=True,
    )

    def store(name: str, who: str, trade_area_type: str) -> uuid.UUID:
        rep = people[who]
        lat, lon = NORTH if rep.region_id == "north" else SOUTH
        return create(
            "store",
            name=name,
            lat=lat,
            lon=lon,
            region=rep.region_id,
            owner=rep.pk,
            trade_area_type=trade_area_type,
        )

    stores = {
        "S1": store("Kiosk 1", "rep_north", "office"),
        "S2": store("Kiosk 2", "rep_north_2", "office"),
        "S3": store("Kiosk 3", "rep_north", "residential"),
        "S4": store("Kiosk 4", "rep_north", "office"),  # never surveyed
        "S5": store("Kiosk 5", "rep_north_2", "residential"),  # only a stale survey
        "S6": store("Kiosk 6", "rep_south", "office"),
    }
    at_north = {"lat": NORTH[0], "lon": NORTH[1], "accuracy_m": 10.0}
    surveys = {
        "A": create(
            "survey",
            store=stores["S1"],
            trade_area_type="office",
            footfall_weekday=300,
            equipment=[],
            lat=ONE_KM_NORTH[0],
            lon=ONE_KM_NORTH[1],
            captured_at=ago(200).isoformat(),
        ),
        "B": create(
            "survey",
            store=stores["S1"],
            trade_area_type="office",
            template_version=1,
            footfall_weekday=100,
            equipment=["microwave"],
            captured_at=ago(10).isoformat(),
            **at_north,
        ),
        "C": create(
            "survey",
            store=stores["S2"],
            footfall_weekday=200,
            equipment=["freezer"],
            signal_quality="poor",
            footfall_slots={"morning": 10},
            fresh_shelf_m=2.5,
            captured_at=ago(5).isoformat(),
            **at_north,
        ),
        "D": create(
            "survey",
            store=stores["S1"],
            trade_area_type="office",
            footfall_weekday=50,
            equipment=["oven"],
            area_m2=30.0,
            signal_quality="good",
            lat=ONE_KM_NORTH[0],
            lon=ONE_KM_NORTH[1],
            accuracy_m=20.0,
            captured_at=ago(1).isoformat(),
        ),
        "E": create("survey", store=stores["S3"], captured_at=ago(3).isoformat(), **at_north),
        "F": create(
            "survey", store=stores["S5"], footfall_weekday=10, captured_at=ago(400).isoformat()
        ),
        "G": create(
            "survey",
            store=stores["S6"],
            footfall_weekday=80,
            equipment=["microwave"],
            area_m2=55.0,
            signal_quality="good",
            footfall_slots={"lunch": 40},
            captured_at=ago(2).isoformat(),
            lat=SOUTH[0],
            lon=SOUTH[1],
        ),
        "H": create(
            "survey",
            store=stores["S2"],
            trade_area_type="school",
            footfall_weekday=1,
            captured_at=ago(1).isoformat(),
        ),
    }
    photo(surveys["A"], "storefront")
    photo(surveys["B"], "storefront")
    photo(surveys["B"], "interior", uploaded=False)
    photo(surveys["C"], "storefront")
    photo(surveys["C"], "interior", uploaded=False)
    photo(surveys["D"], "storefront")
    photo(surveys["D"], "interior")
    photo(surveys["G"], "storefront")
    photo(surveys["G"], "interior")
    photo(surveys["G"], "interior")
    return {"stores": stores, "surveys": surveys}
