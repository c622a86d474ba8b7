"""BB6: architecture rules (god modules, mutable global state)."""
