"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``."""

import gc

from lotsen import create_app

app = create_app()

# What the app has built by now (modules, models, routes) lives as long as the process: move
# it out of the cycle collector's view. A full collection runs when the objects that survived
# the young generations reach a quarter of the old ones; with ~150 000 old objects a worker
# kept ~4 MB of the requests' cyclic garbage (SQLAlchemy statements, forms) waiting for it.
gc.collect()
gc.freeze()
