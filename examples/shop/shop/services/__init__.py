"""Business operations used by the routers: placing orders, taking payments, sending mail."""
