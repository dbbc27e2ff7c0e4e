"""The contact center's configuration and diagnostics services (CX SDK part 2): global and personal reply
templates, the OSCMS webhooks and recordings, diagnostics, and the platform configuration (media and mail
servers, application profiles, prompts, variables). Each works through the :class:`Desk` (who is asking, the
security roles) and the one core's state.

The server wires two things in at start (``attach``): where personal reply templates are kept (the data
directory, or memory with ``--ephemeral``) and the mail settings; the CX hubs attach the live SignalR state
that diagnostics report (``diagnostics.attach``). A reset of the twin or of accounts removes their personal
reply template files (``wipe``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from callyard.core.contact_center.diagnostics import Diagnostics
from callyard.core.contact_center.global_templates import GlobalReplyTemplates
from callyard.core.contact_center.oscms import OscmsWebhooks
from callyard.core.contact_center.personal_templates import Files, PersonalReplyTemplates
from callyard.core.contact_center.platform import MailSettings, Platform
from callyard.events.event import TWIN_RESET, Event

if TYPE_CHECKING:
    from callyard.core.contact_center.desk import Desk
    from callyard.events.projections import Projections

ACCOUNT_REPLACED = ("twin.accountReset", "twin.accountImported")


class Administration:
    def __init__(self, desk: "Desk") -> None:
        self.global_templates = GlobalReplyTemplates(desk)
        self.personal_templates = PersonalReplyTemplates(desk)
        self.oscms = OscmsWebhooks(desk)
        self.diagnostics = Diagnostics(desk)
        self.platform = Platform(desk)
        self.rt = desk.rt

    def attach(self, files: Files, mail: MailSettings) -> None:
        self.personal_templates.attach(files)
        self.platform.attach_mail(mail)

    def register(self, projections: "Projections") -> None:
        """A reset of the twin removes every personal reply template; of accounts, theirs."""
        projections.after_commit("personal reply templates removed with a reset", self._wipe,
                                 events=(TWIN_RESET, *ACCOUNT_REPLACED))

    def _wipe(self, event: Event) -> None:
        if event.type == TWIN_RESET:
            self.personal_templates.files.wipe_all()
        elif event.account_id:
            self.personal_templates.wipe(event.account_id)
