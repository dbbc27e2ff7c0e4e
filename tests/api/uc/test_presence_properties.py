"""Property-based tests (hypothesis) of the UC presence and diversion state: the active diversion number as a
state machine driven by hand-set numbers, activity changes, forcePremappedDiversion and shortcuts; the
diversion rule types over the extension's settings; PIDF written and read back."""
from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from callyard.api.uc import pidf
from callyard.core.devices.diversion import FORWARD_KEYS, PARTS, RULE_TYPES, decide, rule_number, rules_of

ACTIVITIES = ["available", "busy", "lunch", "meeting", "out_of_office", "working"]
NUMBERS = st.sampled_from(["2881", "2882", "6000", "+4676767676"])


class ActiveDiversionNumber(RuleBasedStateMachine):
    """The engine's ``forwardActivity``/``forwardActivityScoped`` as core/devices/diversion.py moves them."""

    @initialize(mapping=st.dictionaries(st.sampled_from(ACTIVITIES), NUMBERS))
    def start(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self.current: str | None = None
        self.scoped = False
        self.manual: str | None = None     # the last number set by hand, unscoped, and not overridden since
        self.last: dict[str, Any] = {}

    def _change(self, activity: str, options: dict[str, Any]) -> None:
        before = (self.current, self.scoped)
        wanted = decide(self.current, self.scoped, self.mapping.get(activity), options, changed=True)
        if wanted is not None:
            self.current, self.scoped = wanted
        self.last = {"activity": activity, "options": options, "before": before}
        if options.get("diversion") or options.get("force"):
            self.manual = None

    @rule(number=NUMBERS, scoped=st.booleans())
    def set_by_hand(self, number: str, scoped: bool) -> None:
        self.current, self.scoped = number, scoped
        self.manual = None if scoped else number
        self.last = {}

    @rule()
    def clear_by_hand(self) -> None:
        self.current, self.scoped, self.manual, self.last = None, False, None, {}

    @rule(activity=st.sampled_from(ACTIVITIES), force=st.booleans())
    def activity_changes(self, activity: str, force: bool) -> None:
        self._change(activity, {"force": force})

    @rule(activity=st.sampled_from(ACTIVITIES), number=NUMBERS)
    def shortcut_with_its_number(self, activity: str, number: str) -> None:
        self._change(activity, {"diversion": number})

    @invariant()
    def a_hand_set_number_survives_unforced_activity_changes(self) -> None:
        if self.manual is not None:
            assert (self.current, self.scoped) == (self.manual, False)

    @invariant()
    def after_an_activity_change_a_scoped_number_is_the_activitys(self) -> None:
        if not self.last or self.manual is not None:
            return
        options = self.last["options"]
        expected = options.get("diversion") or self.mapping.get(self.last["activity"])
        assert self.current == expected
        assert self.scoped == (expected is not None)

    @invariant()
    def scoped_only_with_a_number(self) -> None:
        assert self.current is not None or not self.scoped


ActiveDiversionNumber.TestCase.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)
TestActiveDiversionNumber = ActiveDiversionNumber.TestCase


@given(st.lists(st.tuples(st.sampled_from(RULE_TYPES), st.one_of(st.none(), NUMBERS)), max_size=12))
def test_rule_types_read_back_what_was_written(writes: list[tuple[str, str | None]]) -> None:
    """Writing a rule type sets its parts; a single type then reads back its number, a combined one reads
    back the number both parts share (none when they differ)."""
    settings_: dict[str, Any] = {key: None for key in FORWARD_KEYS}
    for rule_type, number in writes:
        for part in PARTS[rule_type]:
            settings_[part] = number
    if writes:
        rule_type, number = writes[-1]
        assert rule_number(settings_, rule_type) == number
    listed = {r["diversionRoutingRulesType"]: r.get("phoneNumber") for r in rules_of(settings_)}
    assert list(listed) == list(RULE_TYPES)
    for rule_type, parts in PARTS.items():
        values = {settings_[part] for part in parts}
        assert listed[rule_type] == (values.pop() if len(values) == 1 else None)


@settings(max_examples=100, deadline=None)
@given(activity=st.one_of(st.sampled_from(ACTIVITIES), st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)),
       role=st.sampled_from(["business", "private", "support"]),
       note=st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=80),
       expiration=st.one_of(st.just("never"), st.just("2030-01-01T12:00:00Z")),
       available=st.booleans())
def test_pidf_reads_back_what_it_writes(activity: str, role: str, note: str, expiration: str,
                                        available: bool) -> None:
    view = {"activity": {"id": activity, "expiration": expiration, "available": available}, "role": role,
            "note": note, "available": available}
    parsed = pidf.parse(pidf.render(view, "sip:alice@acme.example").encode())
    assert parsed["activity"] == activity
    assert parsed["role"] == role
    assert parsed.get("note", "") == note.strip()
    assert parsed.get("expiration", "never") == expiration
