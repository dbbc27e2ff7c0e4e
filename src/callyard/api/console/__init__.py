"""The web console: the twin seen and driven in a browser, at ``/`` and ``/_callyard/console/...``.

Server-rendered HTML (Jinja2 templates, ``templates/``) with htmx and its SSE extension shipped in
``static/`` (no build step, nothing fetched from elsewhere). It is a façade like the API families: it reads
the one core and runs the core's own operations (the engine's verbs, the contact center's agent changes, the
outbox's replay, faults, the clock), and its live screens are pushed from the event path (``live.py``).
``session.py`` decides who is looking; ``views.py`` what each screen shows; ``routes.py`` the HTTP side."""
