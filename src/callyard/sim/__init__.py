"""The simulated people and outside world: behaviour profiles of phones and scenario traffic."""
