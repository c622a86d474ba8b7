"""Which formatted slots of an SQL statement take a value (knowledge/sql_text.value_slots)."""

from __future__ import annotations

import pytest

from backbone.review.knowledge.sql_text import value_slots

_ = None


@pytest.mark.parametrize(
    ("pieces", "values"),
    [
        # Values: what a query parameter can stand for.
        (["SELECT id FROM users WHERE email = '", _, "'"], [True]),
        (["SELECT id FROM products WHERE name LIKE '%", _, "%'"], [True]),
        (["DELETE FROM orders WHERE id = ", _], [True]),
        ([" LIMIT ", _, " OFFSET ", _], [True, True]),
        (["SELECT id FROM t WHERE created > now() - INTERVAL ", _, " DAY FETCH FIRST ", _, " ROWS ONLY"], [True, True]),
        (["SELECT id FROM t WHERE id IN (", _, ", ", _, ")"], [True, True]),
        (["INSERT INTO users (a) VALUES (1), (", _, ")"], [True]),
        (["SELECT x FROM t WHERE a BETWEEN ", _, " AND ", _], [True, True]),
        (["SELECT ", _, " * popularity"], [True]),
        (["SELECT pg_advisory_lock(", _, ")"], [True]),
        (['SELECT name FROM sqlite_master WHERE name = "', _, '"'], [True]),
        (["SELECT * FROM table(infer_schema(location=>'@\"", _, "\"'))"], [True]),
        # Names, clauses and statements: no parameter can stand for them.
        (["SELECT * FROM ", _, " WHERE id = ", _], [False, True]),
        (["UPDATE ", _, " SET ", _, " = :val WHERE id = :id"], [False, False]),
        (["SELECT COUNT(*) FROM ", _, " AS src WHERE ", _, " IS NOT NULL AND ", _], [False, False, False]),
        (["SELECT MAX(", _, ") AS m FROM ", _], [False, False]),
        (['SELECT MAX("', _, '") FROM ', _], [False, False]),
        (["SELECT MIN(", _, ") FROM (", _, ") AS entities"], [False, False]),
        (["SELECT width_bucket(", _, "::float8, ", _, ")"], [False, True]),
        (["INSERT INTO ", _, " (", _, ", b) VALUES (", _, ", 2)"], [False, False, True]),
        (["COPY INTO ", _, " /* load() */ (", _, ") FROM x"], [False, False]),
        (["SELECT id FROM products WHERE name LIKE '%", _, "%' ORDER BY ", _], [True, False]),
    ],
)
def test_a_slot_takes_a_value_where_a_parameter_could_stand(pieces: list[str | None], values: list[bool]) -> None:
    assert value_slots(pieces) == values
