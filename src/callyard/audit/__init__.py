"""The best-practice audit: the twin watches each client application and reports where it breaks the rules
every CloudLink application must follow (seeds 001 and 002)."""
