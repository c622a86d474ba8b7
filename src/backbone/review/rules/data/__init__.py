"""BB2 data access: N+1 queries, per-row writes, SQL built from strings, lost updates."""
