"""backbone's one SQL layer: fingerprints and statement kinds shared by review, profile and debug
(fingerprint.py, kinds.py), and `backbone explain`: a query's plan read for the user, and the
index that fixes it, proven.

Statements come from the command line, a file, a `backbone profile` report or a PostgreSQL
slow-statement log (inputs.py); their parameters are filled with representative values
(shape.py); the plan is read on PostgreSQL (postgres.py) or SQLite (sqlite.py) into one
tree (plan.py) that the findings are read from; index candidates (shape.py) are tried
with HypoPG or on a scratch copy and kept when they cut the cost (advice.py).
"""

from backbone.sql.model import ExplainOptions, ExplainReport

__all__ = ["ExplainOptions", "ExplainReport"]
