"""Wire models of the UC family shared by its routers (request bodies and responses of the OpenAPI)."""
from __future__ import annotations

from pydantic import BaseModel


class Ticket(BaseModel):
    """An API ticket as created (seed 003, User Tickets API)."""
    expires: str
    name: str
    token: str
    allowedApis: list[str]
