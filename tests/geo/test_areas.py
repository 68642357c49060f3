import numpy as np
import pytest
import shapely

from geo.areas import (
    InvalidAreaError,
    TradeArea,
    TradeAreaIndex,
    point_in_polygon,
    polygon_from,
)
from geo.point import Point

# Rough boxes in central Hamburg, as (lon, lat) rings.
ALTSTADT = [(9.975, 53.540), (10.015, 53.540), (10.015, 53.560), (9.975, 53.560), (9.975, 53.540)]
HBF_FORECOURT = [(10.004, 53.551), (10.009, 53.551), (10.009, 53.555), (10.004, 53.555)]
HARBOUR = [(9.940, 53.535), (9.970, 53.535), (9.970, 53.548), (9.940, 53.548)]

HAMBURG_HBF = Point(lat=53.5530, lon=10.0066)
RATHAUS = Point(lat=53.5507, lon=9.9926)
LANDUNGSBRUECKEN = Point(lat=53.5454, lon=9.9669)
ALSTER_NORTH = Point(lat=53.5750, lon=10.0050)


@pytest.fixture
def index() -> TradeAreaIndex:
    return TradeAreaIndex.build(
        areas={"altstadt": ALTSTADT, "hbf": HBF_FORECOURT, "harbour": HARBOUR}
    )


def test_point_in_polygon():
    altstadt = polygon_from(ALTSTADT)
    assert point_in_polygon(point=RATHAUS, polygon=altstadt)
    assert not point_in_polygon(point=LANDUNGSBRUECKEN, polygon=altstadt)


def test_a_store_in_one_area(index):
    assert index.area_of(RATHAUS) == "altstadt"
    assert index.area_of(LANDUNGSBRUECKEN) == "harbour"


def test_a_store_in_no_area(index):
    assert index.area_of(ALSTER_NORTH) is None
    assert index.areas_of(ALSTER_NORTH) == []


def test_overlapping_areas_resolve_to_the_smallest(index):
    assert index.areas_of(HAMBURG_HBF) == ["hbf", "altstadt"]
    assert index.area_of(HAMBURG_HBF) == "hbf"


def test_contains_checks_one_named_area(index):
    assert index.contains(name="altstadt", point=HAMBURG_HBF)
    assert index.contains(name="hbf", point=HAMBURG_HBF)
    assert not index.contains(name="harbour", point=HAMBURG_HBF)
    with pytest.raises(KeyError):
        index.contains(name="nowhere", point=HAMBURG_HBF)


def test_a_point_on_the_boundary_counts_as_inside(index):
    on_edge = Point(lat=53.545, lon=9.975)  # the west edge of the Altstadt box
    corner = Point(lat=53.540, lon=10.015)
    assert index.area_of(on_edge) == "altstadt"
    assert index.area_of(corner) == "altstadt"


def test_a_hole_is_outside():
    ring_with_hole = [ALTSTADT, HBF_FORECOURT]
    index = TradeAreaIndex.build(areas={"altstadt_without_station": ring_with_hole})
    assert index.area_of(HAMBURG_HBF) is None
    assert index.area_of(RATHAUS) == "altstadt_without_station"


def test_geojson_geometry_and_feature_inputs():
    polygon = {"type": "Polygon", "coordinates": [ALTSTADT]}
    feature = {
        "type": "Feature",
        "properties": {"name": "harbour"},
        "geometry": {"type": "MultiPolygon", "coordinates": [[HARBOUR], [HBF_FORECOURT]]},
    }
    index = TradeAreaIndex.build(areas={"altstadt": polygon, "harbour_and_station": feature})
    assert index.area_of(RATHAUS) == "altstadt"
    assert index.area_of(LANDUNGSBRUECKEN) == "harbour_and_station"
    assert index.area_of(HAMBURG_HBF) == "harbour_and_station"  # the smaller of the two


def test_equal_areas_tie_break_by_name():
    index = TradeAreaIndex.build(areas={"b": HBF_FORECOURT, "a": HBF_FORECOURT})
    assert index.areas_of(HAMBURG_HBF) == ["a", "b"]


def test_area_of_many_agrees_with_shapely_covers(index):
    rng = np.random.default_rng(11)
    lats = rng.uniform(53.530, 53.565, 2_000)
    lons = rng.uniform(9.930, 10.020, 2_000)
    polygons = {
        name: polygon_from(ring)
        for name, ring in (("altstadt", ALTSTADT), ("hbf", HBF_FORECOURT), ("harbour", HARBOUR))
    }

    result = index.area_of_many(lats=lats, lons=lons)

    for lat, lon, name in zip(lats, lons, result, strict=True):
        containing = sorted(
            (polygon.area, area_name)
            for area_name, polygon in polygons.items()
            if polygon.covers(shapely.Point(lon, lat))
        )
        assert name == (containing[0][1] if containing else None)
        assert index.area_of(Point(lat=lat, lon=lon)) == name
    assert {None, "altstadt", "hbf", "harbour"} == set(result)


def test_an_empty_index_finds_nothing():
    index = TradeAreaIndex.build(areas={})
    assert len(index) == 0
    assert index.area_of(HAMBURG_HBF) is None
    assert index.area_of_many(lats=[53.5], lons=[10.0]) == [None]


@pytest.mark.parametrize(
    ("area", "message"),
    [
        ([(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)], "invalid polygon"),
        ([(0.0, 0.0), (1.0, 0.0)], "unreadable ring"),
        ([(170.0, 0.0), (190.0, 0.0), (190.0, 1.0), (170.0, 1.0)], "within range"),
        ({"type": "Point", "coordinates": [0.0, 0.0]}, "GeoJSON"),
        ([], "empty"),
    ],
)
def test_unusable_polygons_are_rejected_with_the_area_name(area, message):
    with pytest.raises(InvalidAreaError, match=message):
        TradeAreaIndex.build(areas={"broken": area})
    with pytest.raises(InvalidAreaError, match="'broken'"):
        TradeAreaIndex.build(areas={"broken": area})


def test_duplicate_names_are_rejected():
    polygon = polygon_from(ALTSTADT)
    with pytest.raises(InvalidAreaError, match="unique"):
        TradeAreaIndex(
            trade_areas=[TradeArea(name="x", polygon=polygon), TradeArea(name="x", polygon=polygon)]
        )


def test_an_area_across_the_antimeridian_as_two_halves():
    fiji = {
        "type": "MultiPolygon",
        "coordinates": [
            [[(179.0, -18.0), (180.0, -18.0), (180.0, -16.0), (179.0, -16.0), (179.0, -18.0)]],
            [[(-180.0, -18.0), (-179.0, -18.0), (-179.0, -16.0), (-180.0, -16.0)]],
        ],
    }
    index = TradeAreaIndex.build(areas={"fiji": fiji})
    assert index.area_of(Point(lat=-17.0, lon=179.5)) == "fiji"
    assert index.area_of(Point(lat=-17.0, lon=-179.5)) == "fiji"
    assert index.area_of(Point(lat=-17.0, lon=0.0)) is None
