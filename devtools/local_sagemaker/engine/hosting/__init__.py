"""Real-time endpoints on local processes: one model server per production variant instance.

serving_container.py says which image contract a model's container follows; model_archive.py
stages its artifacts into an instance's sandbox; instance.py runs and supervises one server
process; fleet.py routes invocations across an endpoint's variants and swaps them blue/green.
The API on top (CreateEndpoint, UpdateEndpoint...) is hosting.py, beside models.py.
"""
