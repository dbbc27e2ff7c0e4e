"""The core: every business rule of the twin lives here. It never speaks HTTP and never formats JSON for an
API family; façades in ``callyard.api`` translate wire requests into calls on it."""
