import random

import pytest

from geo.distance import destination, haversine_m
from geo.point import Point
from geo.route import (
    BRUTE_FORCE_MAX_STOPS,
    brute_force_route,
    nearest_neighbour_route,
    plan_route,
    route_plan_for,
)

HAMBURG = Point(lat=53.5511, lon=9.9937)


def random_day(seed: int, stops: int) -> tuple[Point, list[Point]]:
    """A start and stops scattered over ~20 x 20 km of Hamburg."""
    rng = random.Random(seed)
    points = [
        Point(
            lat=HAMBURG.lat + rng.uniform(-0.09, 0.09), lon=HAMBURG.lon + rng.uniform(-0.15, 0.15)
        )
        for _ in range(stops + 1)
    ]
    return points[0], points[1:]


def test_plan_is_within_5_percent_of_the_optimum_on_8_stops():
    worst = 1.0
    for seed in range(300):
        start, stops = random_day(seed, 8)
        plan = plan_route(start=start, stops=stops)
        optimum = brute_force_route(start=start, stops=stops)
        assert sorted(plan.order) == list(range(8)), seed
        assert plan.total_m >= optimum.total_m - 1e-6, seed
        worst = max(worst, plan.total_m / optimum.total_m)
        assert plan.total_m <= optimum.total_m * 1.05, (seed, plan.total_m / optimum.total_m)
    assert worst < 1.05


@pytest.mark.parametrize("stops_count", [3, 8, 15, 30, 60])
def test_local_search_is_never_worse_than_nearest_neighbour(stops_count):
    for seed in range(10):
        start, stops = random_day(1_000 + seed, stops_count)
        greedy = nearest_neighbour_route(start=start, stops=stops)
        two_opt = plan_route(start=start, stops=stops, restarts=0, kicks=0)
        full = plan_route(start=start, stops=stops)
        assert two_opt.total_m <= greedy.total_m + 1e-6
        assert full.total_m <= two_opt.total_m + 1e-6


def test_local_search_improves_on_nearest_neighbour_somewhere():
    improved = 0
    for seed in range(50):
        start, stops = random_day(2_000 + seed, 20)
        greedy = nearest_neighbour_route(start=start, stops=stops)
        two_opt = plan_route(start=start, stops=stops, restarts=0, kicks=0)
        improved += two_opt.total_m < greedy.total_m - 1.0
    assert improved >= 25


def test_stops_on_a_line_go_the_short_way_first():
    # Start at 0 km; stops at +1 and +3 km east and 1.1 km west along a street.
    # Greedy goes +1, +3, then back west (1 + 2 + 4.1 = 7.1 km); best is west first (5.2 km).
    stops = [
        destination(origin=HAMBURG, bearing_deg=90.0, distance_m=1_000),
        destination(origin=HAMBURG, bearing_deg=90.0, distance_m=3_000),
        destination(origin=HAMBURG, bearing_deg=270.0, distance_m=1_100),
    ]

    greedy = nearest_neighbour_route(start=HAMBURG, stops=stops)
    plan = plan_route(start=HAMBURG, stops=stops)

    assert greedy.order == (0, 1, 2)
    assert greedy.total_m == pytest.approx(7_100, rel=0.01)
    assert plan.order == (2, 0, 1)
    assert plan.total_m == pytest.approx(5_200, rel=0.01)
    assert brute_force_route(start=HAMBURG, stops=stops).order == (2, 0, 1)


def test_legs_add_up_and_match_the_stops():
    start, stops = random_day(77, 12)
    plan = plan_route(start=start, stops=stops)

    previous = start
    for index, leg in zip(plan.order, plan.legs_m, strict=True):
        assert leg == pytest.approx(haversine_m(a=previous, b=stops[index]), rel=1e-9)
        previous = stops[index]
    assert plan.total_m == pytest.approx(sum(plan.legs_m), rel=1e-12)
    assert route_plan_for(start=start, stops=stops, order=plan.order) == plan


def test_the_same_stops_always_give_the_same_order():
    start, stops = random_day(5, 25)
    assert plan_route(start=start, stops=stops) == plan_route(start=start, stops=stops)


def test_empty_and_single_stop_days():
    assert plan_route(start=HAMBURG, stops=[]).order == ()
    assert plan_route(start=HAMBURG, stops=[]).total_m == 0.0
    one = plan_route(start=HAMBURG, stops=[Point(lat=53.56, lon=10.0)])
    assert one.order == (0,)
    assert one.total_m == pytest.approx(
        haversine_m(a=HAMBURG, b=Point(lat=53.56, lon=10.0)), rel=1e-12
    )


def test_duplicate_stops_are_all_visited():
    same = Point(lat=53.56, lon=10.0)
    plan = plan_route(start=HAMBURG, stops=[same, same, Point(lat=53.57, lon=10.01), same])
    assert sorted(plan.order) == [0, 1, 2, 3]
    assert plan.legs_m.count(0.0) == 2


def test_brute_force_refuses_large_inputs():
    start, stops = random_day(1, BRUTE_FORCE_MAX_STOPS + 1)
    with pytest.raises(ValueError, match="brute force"):
        brute_force_route(start=start, stops=stops)


def test_route_plan_for_rejects_an_order_that_is_not_a_permutation():
    start, stops = random_day(1, 3)
    with pytest.raises(ValueError, match="permutation"):
        route_plan_for(start=start, stops=stops, order=[0, 0, 1])


def test_negative_search_budgets_raise():
    start, stops = random_day(1, 3)
    with pytest.raises(ValueError, match="restarts"):
        plan_route(start=start, stops=stops, restarts=-1)
