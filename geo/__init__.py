"""Pure geometry for Fieldline: distances, geofences, trade areas, cells, indexes, routes.

No Django here: apps pass plain values in and get frozen dataclasses back.
"""

from geo.distance import EARTH_MEAN_RADIUS_M, destination, geodesic_m, haversine_m
from geo.geofence import (
    GeofenceMode,
    GeofenceOutcome,
    GeofenceVerdict,
    geofence_radius,
    geofence_verdict,
)
from geo.point import InvalidCoordinateError, Point, validate_coordinates

__all__ = [
    "EARTH_MEAN_RADIUS_M",
    "GeofenceMode",
    "GeofenceOutcome",
    "GeofenceVerdict",
    "InvalidCoordinateError",
    "Point",
    "destination",
    "geodesic_m",
    "geofence_radius",
    "geofence_verdict",
    "haversine_m",
    "validate_coordinates",
]
