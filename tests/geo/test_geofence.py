import dataclasses
import math

import pytest

from geo.distance import destination, geodesic_m
from geo.geofence import (
    DEFAULT_RADIUS_BY_TRADE_AREA,
    GeofenceMode,
    GeofenceOutcome,
    geofence_radius,
    geofence_verdict,
)
from geo.point import Point

HAMBURG_HBF = Point(lat=53.5530, lon=10.0066)
RADIUS_M = 150.0


def fix_at(distance_m: float, bearing_deg: float = 37.0) -> Point:
    fix = destination(origin=HAMBURG_HBF, bearing_deg=bearing_deg, distance_m=distance_m)
    assert geodesic_m(a=HAMBURG_HBF, b=fix) == pytest.approx(distance_m, abs=1e-6)
    return fix


# (distance, accuracy, inside): allowed radius is 150 + min(accuracy, 100).
CASES = [
    (100.0, 5.0, True),  # allowed 155
    (100.0, 80.0, True),  # allowed 230
    (160.0, 5.0, False),  # allowed 155: 5 m outside
    (160.0, 80.0, True),  # the poor fix's slack lets it in
    (2_000.0, 5.0, False),
    (2_000.0, 80.0, False),
]
EXPECTED = {
    (GeofenceMode.OFF, True): GeofenceOutcome.UNCHECKED,
    (GeofenceMode.OFF, False): GeofenceOutcome.UNCHECKED,
    (GeofenceMode.SOFT, True): GeofenceOutcome.PASS,
    (GeofenceMode.SOFT, False): GeofenceOutcome.FLAGGED,
    (GeofenceMode.HARD, True): GeofenceOutcome.PASS,
    (GeofenceMode.HARD, False): GeofenceOutcome.REFUSED,
}


@pytest.mark.parametrize("mode", list(GeofenceMode))
@pytest.mark.parametrize(("distance_m", "accuracy_m", "inside"), CASES)
def test_verdict_at_hamburg_hbf(mode, distance_m, accuracy_m, inside):
    verdict = geofence_verdict(
        store=HAMBURG_HBF,
        fix=fix_at(distance_m),
        accuracy_m=accuracy_m,
        radius_m=RADIUS_M,
        mode=mode,
    )

    assert verdict.distance_m == pytest.approx(distance_m, abs=1e-6)
    assert verdict.allowed_radius_m == pytest.approx(RADIUS_M + accuracy_m)
    assert verdict.inside is inside
    assert verdict.outcome is EXPECTED[(mode, inside)]
    assert verdict.allowed is (verdict.outcome is not GeofenceOutcome.REFUSED)


def test_mode_off_always_allows_and_still_reports_the_distance():
    verdict = geofence_verdict(
        store=HAMBURG_HBF, fix=fix_at(2_000.0), accuracy_m=5.0, radius_m=RADIUS_M, mode="off"
    )
    assert verdict.allowed
    assert verdict.outcome == "unchecked"
    assert verdict.inside is False
    assert verdict.distance_m == pytest.approx(2_000.0, abs=1e-6)


def test_soft_mode_allows_a_fix_outside_but_flags_it():
    verdict = geofence_verdict(
        store=HAMBURG_HBF, fix=fix_at(160.0), accuracy_m=5.0, radius_m=RADIUS_M, mode="soft"
    )
    assert (verdict.allowed, verdict.outcome) == (True, GeofenceOutcome.FLAGGED)


def test_hard_mode_refuses_a_fix_outside():
    verdict = geofence_verdict(
        store=HAMBURG_HBF, fix=fix_at(160.0), accuracy_m=5.0, radius_m=RADIUS_M, mode="hard"
    )
    assert (verdict.allowed, verdict.outcome) == (False, GeofenceOutcome.REFUSED)


def test_the_verdict_does_not_depend_on_the_direction():
    outcomes = {
        geofence_verdict(
            store=HAMBURG_HBF,
            fix=fix_at(160.0, bearing_deg=bearing),
            accuracy_m=5.0,
            radius_m=RADIUS_M,
            mode=GeofenceMode.HARD,
        ).outcome
        for bearing in range(0, 360, 30)
    }
    assert outcomes == {GeofenceOutcome.REFUSED}


def test_slack_is_capped_so_a_vague_fix_cannot_verify_from_afar():
    # accuracy 500 m would allow 650 m; the 100 m cap allows 250 m.
    near = geofence_verdict(
        store=HAMBURG_HBF, fix=fix_at(240.0), accuracy_m=500.0, radius_m=RADIUS_M, mode="hard"
    )
    far = geofence_verdict(
        store=HAMBURG_HBF, fix=fix_at(260.0), accuracy_m=500.0, radius_m=RADIUS_M, mode="hard"
    )
    assert near.allowed_radius_m == far.allowed_radius_m == 250.0
    assert near.outcome is GeofenceOutcome.PASS
    assert far.outcome is GeofenceOutcome.REFUSED


def test_a_custom_cap_and_factor_set_the_slack():
    verdict = geofence_verdict(
        store=HAMBURG_HBF,
        fix=fix_at(200.0),
        accuracy_m=30.0,
        radius_m=RADIUS_M,
        mode="hard",
        accuracy_factor=2.0,
        max_slack_m=40.0,
    )
    assert verdict.allowed_radius_m == 190.0  # min(2 x 30, 40) = 40
    assert verdict.outcome is GeofenceOutcome.REFUSED

    uncapped = geofence_verdict(
        store=HAMBURG_HBF,
        fix=fix_at(200.0),
        accuracy_m=30.0,
        radius_m=RADIUS_M,
        mode="hard",
        accuracy_factor=2.0,
        max_slack_m=100.0,
    )
    assert uncapped.allowed_radius_m == 210.0
    assert uncapped.outcome is GeofenceOutcome.PASS


def test_unknown_accuracy_earns_no_slack():
    verdict = geofence_verdict(
        store=HAMBURG_HBF, fix=fix_at(155.0), accuracy_m=None, radius_m=RADIUS_M, mode="hard"
    )
    assert verdict.allowed_radius_m == RADIUS_M
    assert verdict.outcome is GeofenceOutcome.REFUSED


def test_a_fix_on_the_store_passes_with_zero_distance():
    verdict = geofence_verdict(
        store=HAMBURG_HBF, fix=HAMBURG_HBF, accuracy_m=0.0, radius_m=RADIUS_M, mode="hard"
    )
    assert verdict.distance_m == 0.0
    assert verdict.outcome is GeofenceOutcome.PASS


def test_transit_hub_gets_its_wider_radius():
    transit_radius = geofence_radius(
        store_radius_m=None,
        trade_area_type="transit",
        radius_by_trade_area=DEFAULT_RADIUS_BY_TRADE_AREA,
    )
    office_radius = geofence_radius(
        store_radius_m=None,
        trade_area_type="office",
        radius_by_trade_area=DEFAULT_RADIUS_BY_TRADE_AREA,
    )
    assert transit_radius == 300.0
    assert office_radius == 150.0

    fix = fix_at(250.0)
    hub = geofence_verdict(
        store=HAMBURG_HBF, fix=fix, accuracy_m=5.0, radius_m=transit_radius, mode="hard"
    )
    office = geofence_verdict(
        store=HAMBURG_HBF, fix=fix, accuracy_m=5.0, radius_m=office_radius, mode="hard"
    )
    assert hub.outcome is GeofenceOutcome.PASS
    assert office.outcome is GeofenceOutcome.REFUSED


def test_a_stores_own_radius_beats_its_trade_area():
    radius = geofence_radius(
        store_radius_m=80.0,
        trade_area_type="transit",
        radius_by_trade_area={"transit": 300.0},
    )
    assert radius == 80.0


@pytest.mark.parametrize("trade_area_type", [None, "", "residential"])
def test_without_override_or_known_type_the_default_applies(trade_area_type):
    radius = geofence_radius(
        store_radius_m=None,
        trade_area_type=trade_area_type,
        radius_by_trade_area={"transit": 300.0},
        default_radius_m=175.0,
    )
    assert radius == 175.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"radius_m": 0.0}, "radius_m"),
        ({"radius_m": -5.0}, "radius_m"),
        ({"radius_m": math.nan}, "radius_m"),
        ({"accuracy_m": -1.0}, "accuracy_m"),
        ({"accuracy_m": math.nan}, "accuracy_m"),
        ({"accuracy_m": math.inf}, "accuracy_m"),
        ({"accuracy_factor": -1.0}, "accuracy_factor"),
        ({"max_slack_m": -1.0}, "max_slack_m"),
        ({"mode": "strict"}, "GeofenceMode"),
    ],
)
def test_bad_parameters_raise(overrides, message):
    kwargs = {
        "store": HAMBURG_HBF,
        "fix": HAMBURG_HBF,
        "accuracy_m": 5.0,
        "radius_m": RADIUS_M,
        "mode": GeofenceMode.HARD,
        **overrides,
    }
    with pytest.raises(ValueError, match=message):
        geofence_verdict(**kwargs)


def test_bad_radii_raise():
    with pytest.raises(ValueError, match="store_radius_m"):
        geofence_radius(store_radius_m=0.0, trade_area_type=None, radius_by_trade_area={})
    with pytest.raises(ValueError, match="transit"):
        geofence_radius(
            store_radius_m=None, trade_area_type="transit", radius_by_trade_area={"transit": -1}
        )


def test_verdicts_are_frozen():
    verdict = geofence_verdict(
        store=HAMBURG_HBF, fix=HAMBURG_HBF, accuracy_m=None, radius_m=RADIUS_M, mode="soft"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.outcome = GeofenceOutcome.REFUSED  # type: ignore[misc]
