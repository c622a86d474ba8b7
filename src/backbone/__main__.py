from backbone.cli import entrypoint

entrypoint()
