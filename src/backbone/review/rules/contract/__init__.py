"""BB3: the API contract and data exposure."""
