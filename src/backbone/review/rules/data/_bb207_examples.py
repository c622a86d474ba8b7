"""BB207 examples."""

INVALID: tuple[str, ...] = ()
VALID: tuple[str, ...] = ()
