"""The rule-option names that carry `[tool.backbone.errors]` to BB104.

A module of its own so that reading the configuration does not load the error catalogues.
"""

from __future__ import annotations

ERRORS_RULE = "BB104"
VALIDATION_OPTION = "validation_status"
BUSINESS_OPTION = "business_status"
INFRASTRUCTURE_OPTION = "infrastructure_statuses"
