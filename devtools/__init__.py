"""The local development tools: never imported by the product (dags/, plugins/, include/), never in an image."""
