"""Semantic versions of the phone app (X-App-Version), compared as semver 2.0 orders them."""

import re
from dataclasses import dataclass

SEMVER = re.compile(
    r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


class AppVersionInvalid(ValueError):
    pass


@dataclass(frozen=True, order=True)
class AppVersion:
    """Ordered as semver says: numbers first, a pre-release before its release, build
    metadata ignored."""

    major: int
    minor: int
    patch: int
    # (1,) for a release; (0, identifiers...) for a pre-release, which sorts before it.
    pre: tuple

    @classmethod
    def parse(cls, text: str) -> "AppVersion":
        match = SEMVER.match(text.strip()) if len(text) <= 64 else None
        if match is None:
            raise AppVersionInvalid(f"{text[:64]!r} is not a semantic version (like 2.4.1).")
        major, minor, patch, pre = match.groups()
        if pre is None:
            return cls(int(major), int(minor), int(patch), (1,))
        identifiers = tuple(
            (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
        )
        return cls(int(major), int(minor), int(patch), (0, *identifiers))
