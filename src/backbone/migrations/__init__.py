"""`backbone migrations trace`: apply the pending migrations to a scratch PostgreSQL and record,
per operation, the locks it took, the tables it rewrote and how long it ran (command.py, trace.py;
the migrations run in a worker process, worker.py; the scratch server is scratch.py)."""
