"""The event path: the core's events go onto one bus, after they are durable in the store. Projections and
delivery (webhooks, MQTT over WebSocket, …) subscribe here."""
