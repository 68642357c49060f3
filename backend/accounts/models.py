"""Users, their roles and the regions they work in."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    REP = "rep", "Sales rep"
    MANAGER = "manager", "Regional manager"
    HQ = "hq", "Headquarters"


# Who works in the office (the HQ pages, office APIs); reps work in the field.
OFFICE_ROLES = frozenset({Role.MANAGER.value, Role.HQ.value})


class Region(models.Model):
    """A sales region; its code is what the wire carries (`"north"`)."""

    code = models.SlugField(primary_key=True, max_length=32)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REP)
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="hq") | models.Q(region__isnull=False),
                name="user_region_required_unless_hq",
            ),
        ]

    @property
    def is_rep(self) -> bool:
        return self.role == Role.REP

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_hq(self) -> bool:
        return self.role == Role.HQ
