"""A validated WGS-84 position: the one shape a coordinate takes when it enters `geo`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike, NDArray


class InvalidCoordinateError(ValueError):
    """A latitude/longitude that is not a finite number in range.

    A subclass of ValueError so callers that only know "bad input" still catch it,
    while the API layer can map it to its own field error.
    """


def validate_coordinates(*, lat: float, lon: float) -> tuple[float, float]:
    """Check one position and return it as plain floats.

    Phones send NaN, swapped axes and out-of-range values; failing here keeps a bad fix
    from turning into a silently wrong distance further down.
    """
    for name, value in (("lat", lat), ("lon", lon)):
        # `type(...) is float` first: the Real check goes through the ABC machinery, which
        # costs more than the rest of the validation.
        if type(value) is not float and (isinstance(value, bool) or not isinstance(value, Real)):
            raise InvalidCoordinateError(f"{name} must be a number, got {value!r}")
    lat_f, lon_f = float(lat), float(lon)
    if not math.isfinite(lat_f) or not -90.0 <= lat_f <= 90.0:
        raise InvalidCoordinateError(f"lat must be a finite number in [-90, 90], got {lat!r}")
    if not math.isfinite(lon_f) or not -180.0 <= lon_f <= 180.0:
        raise InvalidCoordinateError(f"lon must be a finite number in [-180, 180], got {lon!r}")
    return lat_f, lon_f


def validate_coordinate_arrays(
    *, lats: ArrayLike, lons: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The bulk form of `validate_coordinates`, for index builds over many stores."""
    lat_arr = np.asarray(lats, dtype=np.float64)
    lon_arr = np.asarray(lons, dtype=np.float64)
    if lat_arr.ndim != 1 or lon_arr.shape != lat_arr.shape:
        raise InvalidCoordinateError(
            f"lats and lons must be 1-D arrays of equal length, got {lat_arr.shape} "
            f"and {lon_arr.shape}"
        )
    bad_lat = ~(np.isfinite(lat_arr) & (lat_arr >= -90.0) & (lat_arr <= 90.0))
    if bad_lat.any():
        first = int(np.flatnonzero(bad_lat)[0])
        raise InvalidCoordinateError(
            f"lats[{first}] must be a finite number in [-90, 90], got {lat_arr[first]!r}"
        )
    bad_lon = ~(np.isfinite(lon_arr) & (lon_arr >= -180.0) & (lon_arr <= 180.0))
    if bad_lon.any():
        first = int(np.flatnonzero(bad_lon)[0])
        raise InvalidCoordinateError(
            f"lons[{first}] must be a finite number in [-180, 180], got {lon_arr[first]!r}"
        )
    return lat_arr, lon_arr


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS-84 latitude/longitude in degrees, validated on construction.

    Latitude first, as phones and humans say it; polygon rings (GeoJSON) are lon/lat
    and are handled in `geo.areas`.
    """

    lat: float
    lon: float

    def __post_init__(self) -> None:
        lat, lon = validate_coordinates(lat=self.lat, lon=self.lon)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)
