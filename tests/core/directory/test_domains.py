"""Account domains: set by the tenant file or derived from the name, unique regardless of case, valid DNS
names; derived for accounts created later and for snapshots taken before accounts had domains."""
from __future__ import annotations

import pytest

from callyard.api.cloudlink.wire import account_wire
from callyard.core.directory import domains
from callyard.core.directory.tenant import build_state
from callyard.core.errors import Invalid
from callyard.core.principal import Principal
from callyard.core.service import Core

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
PARTNER = "5a3c1e8e-0f7a-4c61-9b57-1d0c2a6f0001"


def tenant(*accounts: dict) -> dict:
    return {"format": "callyard-tenant", "version": 1, "accounts": list(accounts)}


async def test_demo_tenant_domains(core: Core) -> None:
    found = {a["name"]: a["domain"] for a in core.rt.state.all("account")}
    assert found == {"Callyard Partner": "callyard.example", "Acme": "acme.example", "Globex": "globex.example"}
    acme = core.rt.state.get("account", ACME)
    # the CloudLink account keeps its platform domain, which also ends every user's sipAddress
    assert acme["sipDomain"] == f"{ACME}.callyard.example"
    assert account_wire(acme)["domain"] == f"{ACME}.callyard.example" and "sipDomain" not in account_wire(acme)
    alice = core.rt.state.get("user", "ac3e0000-0000-4000-8000-000000002880")
    assert alice["sipAddress"].endswith(f"@{ACME}.callyard.example")


async def test_tenant_domains_are_derived_when_absent_and_kept_lower_case(core: Core) -> None:
    state = build_state(core.rt, tenant(
        {"name": "Big Partner", "customers": [{"name": "Zoë & Co"},
                                              {"name": "Initech", "domain": "Big-Partner.Example"},
                                              {"name": "Big Partner"}]}))
    found = sorted((a["name"], a["domain"]) for a in state.all("account"))
    # the declared domain is reserved first: the partner's derived one steps aside
    assert found == [("Big Partner", "big-partner-2.example"), ("Big Partner", "big-partner-3.example"),
                     ("Initech", "big-partner.example"), ("Zoë & Co", "zoe-co.example")]


@pytest.mark.parametrize("accounts, message", [
    ([{"name": "A", "domain": "acme.example"}, {"name": "B", "domain": "ACME.example"}], "both have the domain"),
    ([{"name": "A", "domain": "not a domain"}], "not a valid DNS name"),
    ([{"name": "A", "domain": "localhost"}], "not a valid DNS name"),
    ([{"name": "A", "domain": "-bad-.example"}], "not a valid DNS name"),
])
async def test_tenant_files_with_bad_or_duplicate_domains_are_refused(core: Core, accounts, message) -> None:
    with pytest.raises(Invalid) as refused:
        build_state(core.rt, tenant({"name": "P", "customers": accounts}))
    assert refused.value.name == "InvalidTenant" and message in refused.value.message


async def test_accounts_created_later_get_a_unique_derived_domain(core: Core) -> None:
    partner = Principal(principal_id="p", account_id=PARTNER, role="PARTNER_ADMIN")
    first = await core.directory.create_account(partner, {"name": "Acme"})
    second = await core.directory.create_account(partner, {"name": "ACME"})
    assert (first["domain"], second["domain"]) == ("acme-2.example", "acme-3.example")
    assert first["sipDomain"] == f"{first['accountId']}.callyard.example"
    assert core.directory.account_by_domain("ACME-2.example") is first


async def test_snapshots_from_before_domains_get_them_on_import(core: Core) -> None:
    snapshot = core.export_state()
    for account in snapshot["documents"]["account"]:  # as a snapshot of an older version holds them
        account["domain"] = account.pop("sipDomain")
    await core.import_state(snapshot)
    found = {a["name"]: (a["domain"], a["sipDomain"]) for a in core.rt.state.all("account")}
    assert found["Acme"] == ("acme.example", f"{ACME}.callyard.example")
    assert found["Callyard Partner"] == ("callyard-partner.example", f"{PARTNER}.callyard.example")
    assert core.directory.resolve_user_address("acme.example/alice")["email"] == "alice@acme.example"


def test_domain_rules() -> None:
    assert domains.is_domain("acme.example") and domains.is_domain("a-1.b.example")
    assert not domains.is_domain("acme") and not domains.is_domain("acme..example")
    assert not domains.is_domain("10.0.0.1") and not domains.is_domain("a" * 64 + ".example")
    assert domains.derive("!!!", set()) == "account.example"
