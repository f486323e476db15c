"""The endpoint's state survives a restart: moto's backends and the engine's records, saved in the work dir.

store.py snapshots each service to its own file (state_file.py) whenever it changes;
requests.py makes a changing request wait for that snapshot; changes.py is how the engine
reports its own progress; pickling.py and s3_objects.py say what a snapshot holds. See
docs/local-endpoint.md, "State across restarts", for what is kept and what is not.
"""
