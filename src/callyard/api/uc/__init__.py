"""The UC User API family (seed 003: the end-user API of Dstny Core, formerly Mitel Telepo) under ``/api``."""
