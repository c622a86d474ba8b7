"""BB7 migration safety: locks, rewrites and expand/contract in Django and Alembic migrations."""
