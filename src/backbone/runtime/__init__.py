"""backbone's runtime side: instrumentation, SQL fingerprints, detectors, the profile driver, the pytest plugin.

Public API (re-exported by backbone.api):

- `profile(ProfileOptions(app="shop.main:app", ...)) -> ProfileReport`: the `backbone profile` command.
- `BackboneASGIMiddleware` / `BackboneWSGIMiddleware` with a `Recorder`, and `instrumented()`:
  the same instrumentation, for wiring into an app by hand.
- `capturing()`: collect the queries run in a block (what the pytest plugin uses).
- `repeated_queries()`: the N+1 groups among captured queries.
"""

from __future__ import annotations

from backbone.runtime.asgi import BackboneASGIMiddleware
from backbone.runtime.capture import RequestCapture, capturing, instrumentation_errors
from backbone.runtime.detectors import (
    RUNTIME_CODES,
    Analyzer,
    DetectionSettings,
    EventLoopStall,
    NPlusOne,
    QueryBudgetExceeded,
    RepeatedQuery,
    RequestTimeout,
    RouteSummary,
    RuntimeIssue,
    SlowQuery,
    repeated_queries,
)
from backbone.runtime.driver import (
    ProfileError,
    ProfileOptions,
    detect_interface,
    load_app,
    profile,
)
from backbone.runtime.events import (
    AppInterface,
    CallSite,
    LoopStall,
    Outcome,
    QueryEvent,
    QueryLayer,
    RequestRecord,
)
from backbone.runtime.fingerprint import Fingerprint, fingerprint
from backbone.runtime.instrument import instrumented
from backbone.runtime.recorder import Recorder
from backbone.runtime.report import ProfileReport, profile_document
from backbone.runtime.scenario import (
    Scenario,
    ScenarioError,
    ScenarioStep,
    load_scenario,
    parse_scenario,
)
from backbone.runtime.stats import LatencyDigest
from backbone.runtime.wsgi import BackboneWSGIMiddleware

__all__ = [
    "RUNTIME_CODES",
    "Analyzer",
    "AppInterface",
    "BackboneASGIMiddleware",
    "BackboneWSGIMiddleware",
    "CallSite",
    "DetectionSettings",
    "EventLoopStall",
    "Fingerprint",
    "LatencyDigest",
    "LoopStall",
    "NPlusOne",
    "Outcome",
    "ProfileError",
    "ProfileOptions",
    "ProfileReport",
    "QueryBudgetExceeded",
    "QueryEvent",
    "QueryLayer",
    "Recorder",
    "RepeatedQuery",
    "RequestTimeout",
    "RequestCapture",
    "RequestRecord",
    "RouteSummary",
    "RuntimeIssue",
    "Scenario",
    "ScenarioError",
    "ScenarioStep",
    "SlowQuery",
    "capturing",
    "detect_interface",
    "fingerprint",
    "instrumentation_errors",
    "instrumented",
    "load_app",
    "load_scenario",
    "parse_scenario",
    "profile",
    "profile_document",
    "repeated_queries",
]
