"""Delivery: getting what the core produced out of the process (mail now; webhooks, MQTT over WebSocket,
SignalR and SSE as their families arrive)."""
