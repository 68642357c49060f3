"""The admin lists every model by a plural a person would write, not Django's default of
appending an "s" ("coupon batchs")."""

import pytest
from django.contrib import admin

# Plurals an "s" does not make.
IRREGULAR_ENDINGS = ("ch", "sh", "ss", "x", "y")


@pytest.mark.parametrize(
    "model", sorted(admin.site._registry, key=lambda m: m._meta.label), ids=lambda m: m._meta.label
)
def test_the_admins_plural_names_are_spelled_right(model):
    singular = str(model._meta.verbose_name)
    plural = str(model._meta.verbose_name_plural)
    if singular.endswith(IRREGULAR_ENDINGS) and not singular.endswith(("ay", "ey", "oy")):
        assert plural != f"{singular}s", f"{model._meta.label}: {plural!r}"
    assert plural != singular
