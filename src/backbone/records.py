"""`Record`: the base of backbone's immutable values (facts, findings, reports).

A record is a frozen `msgspec.Struct`: built in C, compared and hashed by its fields, and
encoded as a tagged array, so that the review cache and the messages between review
processes read it back without converting anything (`review/cache_codec`), and a union of
records decodes into the right class by its name. Records are data: they never hold
themselves, so the garbage collector need not track them; one that holds a caller's function
(which may refer back to it) declares `gc=True`.
"""

from __future__ import annotations

import msgspec


class Record(msgspec.Struct, frozen=True, array_like=True, tag=True, gc=False):
    """An immutable value; subclasses declare their fields as annotations."""
