"""The pages family: what a person opens in a browser — the API docs (Swagger UI
and ReDoc, served from the fastapi-offline package, so they work offline) and the OpenAPI documents (the
whole twin's and one per family)."""
