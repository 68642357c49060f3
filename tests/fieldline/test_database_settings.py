"""PostgreSQL connections run without JIT: compiling the completeness scoring query took
~30 s with 14,000 surveys, running it well under one."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_connections_have_jit_off():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
