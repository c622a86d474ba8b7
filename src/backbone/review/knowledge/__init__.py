"""Shared knowledge that rules ask: which exceptions are infrastructure errors, what a logging call is."""
