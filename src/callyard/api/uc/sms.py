"""SMS (seed 003, 1 operation; path and answer from uc-cx-corrections.md R3): ``POST /api/user/sms/{to}`` with
``{"smsText": …}`` sends a text message from the ticket's user. The twin has no SMS gateway: the message is
captured in the core's SMS outbox (``GET /_callyard/sms``) with ``to`` expanded by the sender's account number
plan (``08…`` → ``+468…``). Only a ticket granted the SMS API ("Send SMS") may send."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from callyard.api.deps import CoreDep
from callyard.api.uc.edge import SMS, UcCaller, caller_for
from callyard.api.uc.edge.errors import ERROR_RESPONSES

router = APIRouter(prefix="/api/user/sms", tags=["SMS"], responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_for(SMS))]


class SmsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    smsText: str | None = Field(default=None, description="The message (required; at most 1600 characters)")


class SmsSent(BaseModel):
    """The platform's answer to a sent message: an empty validation result."""
    validationResult: str


@router.post("/{to}", response_model=SmsSent, operation_id="sendSms",
             summary="Send an SMS (the number expanded per the sender's number plan)")
async def send(body: SmsRequest, who: Caller, core: CoreDep,
               to: Annotated[str, Path(description="The recipient: an international (+358…) or national number",
                                       max_length=32)]) -> dict[str, Any]:
    await core.sms.send(who.account_id, sender=core.sms.sender_number(who.user), to=to, text=body.smsText,
                        source="uc", user_id=str(who.user["userId"]))
    return {"validationResult": ""}
