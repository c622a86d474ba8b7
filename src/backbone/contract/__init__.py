"""`backbone contract`: the API contract (OpenAPI) extracted from the code, diffed and linted.

- `extract.extract_spec(target, app_dir)`: OpenAPI 3.1 for a FastAPI/Starlette app (its own
  `openapi()` when it imports, else statically) or a Flask/Django/DRF project (statically,
  from backbone's frameworks layer); every operation carries `x-backbone-source`.
- `diff.diff_specs(base, head)`: the changes between two specs, each one of the checks of
  `checks.CHECKS` with a stable id, a code (CT1xxx) and a level (breaking, warning, info).
- `lint.lint_spec(spec)`: the OpenAPI and backend rules (CT2xxx) a contract should follow.
"""
