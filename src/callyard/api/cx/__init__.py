"""The CX SDK family (seed 004, Mitel CX / MiContact Center Business "MiCCSDK"): its authorization server at
``/AuthorizationServer`` and its REST API under ``/miccsdk/api/v1``, over the one core's contact center."""
