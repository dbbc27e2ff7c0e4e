"""Wire plumbing shared by the families: error envelope, token extraction, OData, paging, middleware."""
