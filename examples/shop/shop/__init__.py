"""The web shop's backend: customers, the product catalog, orders and payments."""

__version__ = "1.4.0"
