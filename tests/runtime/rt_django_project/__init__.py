"""A Django app for the runtime tests: authors and books, N+1 views and their eager twins."""
