import h3
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.cells import cell_center, cell_of, cells_within
from geo.distance import destination, haversine_m
from geo.point import Point

HAMBURG_HBF = Point(lat=53.5530, lon=10.0066)


def cell_polygon(cell: str) -> shapely.Polygon:
    """The cell as a planar lon/lat polygon (fine away from the antimeridian and poles)."""
    return shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)])


@pytest.mark.parametrize("resolution", [0, 5, 7, 9, 12, 15])
def test_the_cell_of_hamburg_hbf_contains_it(resolution):
    cell = cell_of(point=HAMBURG_HBF, resolution=resolution)
    assert h3.is_valid_cell(cell)
    assert h3.get_resolution(cell) == resolution
    if resolution >= 5:
        assert cell_polygon(cell).covers(shapely.Point(HAMBURG_HBF.lon, HAMBURG_HBF.lat))


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(min_value=-80.0, max_value=80.0),
    lon=st.floats(min_value=-179.0, max_value=179.0),
    resolution=st.integers(min_value=5, max_value=12),
)
def test_a_points_cell_contains_the_point(lat, lon, resolution):
    point = Point(lat=lat, lon=lon)
    cell = cell_of(point=point, resolution=resolution)
    # Cell edges are great-circle arcs; the planar polygon differs by far less than 1e-7 deg.
    assert cell_polygon(cell).buffer(1e-7).covers(shapely.Point(lon, lat))
    assert cell_of(point=cell_center(cell), resolution=resolution) == cell


@settings(max_examples=150, deadline=None)
@given(
    lat=st.floats(min_value=-89.9, max_value=89.9),
    lon=st.floats(min_value=-180.0, max_value=180.0),
    resolution=st.integers(min_value=5, max_value=11),
    radius_edges=st.floats(min_value=0.0, max_value=6.0),
    samples=st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=360.0), st.floats(0.0, 1.0)),
        min_size=1,
        max_size=20,
    ),
)
def test_cells_within_cover_every_point_in_the_radius(lat, lon, resolution, radius_edges, samples):
    center = Point(lat=lat, lon=lon)
    radius_m = radius_edges * h3.average_hexagon_edge_length(resolution, unit="m")

    cells = cells_within(point=center, radius_m=radius_m, resolution=resolution)

    assert cell_of(point=center, resolution=resolution) in cells
    for bearing, fraction in [*samples, (0.0, 1.0), (90.0, 1.0), (180.0, 1.0), (270.0, 1.0)]:
        target = destination(origin=center, bearing_deg=bearing, distance_m=fraction * radius_m)
        assert cell_of(point=target, resolution=resolution) in cells


@pytest.mark.parametrize("lon", [179.9999, -179.9999])
def test_cells_within_cover_across_the_antimeridian(lon):
    center = Point(lat=10.0, lon=lon)
    cells = cells_within(point=center, radius_m=2_000.0, resolution=9)
    for bearing in range(0, 360, 10):
        target = destination(origin=center, bearing_deg=float(bearing), distance_m=2_000.0)
        assert cell_of(point=target, resolution=9) in cells


def test_cells_within_cover_around_a_pentagon():
    pentagon = next(iter(h3.get_pentagons(8)))
    center = cell_center(pentagon)
    cells = cells_within(point=center, radius_m=3_000.0, resolution=8)
    assert pentagon in cells
    for bearing in range(0, 360, 5):
        for distance in (500.0, 1_500.0, 3_000.0):
            target = destination(origin=center, bearing_deg=float(bearing), distance_m=distance)
            assert cell_of(point=target, resolution=8) in cells


def test_cells_within_are_not_wildly_more_than_needed():
    # A 1 km disk is ~3.14 km2; a resolution-9 cell is ~0.105 km2, so ~30 cells touch it.
    cells = cells_within(point=HAMBURG_HBF, radius_m=1_000.0, resolution=9)
    assert 30 <= len(cells) <= 70
    farthest = max(haversine_m(a=HAMBURG_HBF, b=cell_center(cell)) for cell in cells)
    assert farthest < 1_000.0 + 2 * h3.average_hexagon_edge_length(9, unit="m")


def test_zero_radius_is_the_points_own_cell_and_its_near_neighbours():
    cells = cells_within(point=HAMBURG_HBF, radius_m=0.0, resolution=9)
    own = cell_of(point=HAMBURG_HBF, resolution=9)
    assert own in cells
    assert cells <= set(h3.grid_disk(own, 1))


def test_too_many_cells_raise():
    with pytest.raises(ValueError, match="coarser resolution"):
        cells_within(point=HAMBURG_HBF, radius_m=50_000.0, resolution=12, max_cells=1_000)


@pytest.mark.parametrize("resolution", [-1, 16, 9.0, True])
def test_bad_resolution_raises(resolution):
    with pytest.raises(ValueError, match="resolution"):
        cell_of(point=HAMBURG_HBF, resolution=resolution)


def test_negative_radius_raises():
    with pytest.raises(ValueError, match="radius_m"):
        cells_within(point=HAMBURG_HBF, radius_m=-1.0, resolution=9)
