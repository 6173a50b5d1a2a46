"""Handover: a case opens when a member leaves, lists what they hold across the app,
moves each item to a new holder in its own app, and is signed off when nothing is left."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.models import AuditEvent, HandoverCase, HandoverReason, HandoverStatus
from governance.providers import HANDOVER, register_provider, unregister_provider
from governance.services.audit import audit_verify_chain
from governance.services.handover import (
    handover_case_open,
    handover_case_refresh,
    handover_case_sign_off,
    handover_items_reassign,
)
from governance.services.members import member_deactivate, member_set_leaving_date
from governance.tests.handover_setup import Holdings, build_holdings, scheduled_post
from publishing.models import ApprovalStage

ALL_KINDS = {
    "publishing.posts",
    "publishing.approvals",
    "accounts.connected",
    "governance.registry_roles",
    "governance.vault_secrets",
}


@pytest.fixture
def holdings(personas) -> Holdings:
    return build_holdings(personas)


def _case(holdings: Holdings) -> HandoverCase:
    return HandoverCase.objects.get(membership=holdings.bob)


def test_deactivating_a_member_opens_a_case_listing_everything_they_hold(holdings):
    member_deactivate(membership=holdings.bob, actor=holdings.alice.user)

    case = _case(holdings)
    assert case.status == HandoverStatus.OPEN
    assert case.reason == HandoverReason.DEACTIVATED
    assert case.opened_by == holdings.alice.user
    items = {item.kind: item for item in case.items.all()}
    assert set(items) == ALL_KINDS
    assert items["publishing.posts"].label == "Library opening hours"
    assert items["publishing.posts"].object_id == str(holdings.post.pk)
    assert "Scheduled" in items["publishing.posts"].detail
    assert items["publishing.posts"].link == f"/publishing/posts/{holdings.post.pk}/"
    assert items["publishing.approvals"].label == "Approval policy “Comms sign-off”"
    assert items["accounts.connected"].label == "City Events"
    assert items["accounts.connected"].link == f"/accounts/{holdings.connected.pk}/"
    assert items["governance.registry_roles"].detail == "Business owner"
    assert items["governance.vault_secrets"].needs_rotation
    assert not any(item.is_assigned for item in items.values())
    assert AuditEvent.objects.filter(action="handover.case_opened", target_id=str(case.pk)).exists()


def test_a_leaving_date_opens_the_case_and_deactivation_reuses_it(holdings):
    member_set_leaving_date(
        membership=holdings.bob, actor=holdings.alice.user, leaving_on=date.today() + timedelta(7)
    )
    case = _case(holdings)
    assert case.reason == HandoverReason.LEAVING_DATE
    assert case.items.count() == 5

    member_deactivate(membership=holdings.bob, actor=holdings.alice.user)

    assert HandoverCase.objects.filter(membership=holdings.bob).count() == 1


def test_sign_off_is_refused_while_items_have_no_new_holder(holdings):
    case = handover_case_open(membership=holdings.bob, actor=holdings.alice.user)
    post_item = case.items.get(kind="publishing.posts")
    handover_items_reassign(
        case=case, item_ids=[post_item.pk], new_holder=holdings.manny, actor=holdings.alice.user
    )

    with pytest.raises(ValidationError) as refused:
        handover_case_sign_off(case=case, actor=holdings.manny.user)

    message = refused.value.messages[0]
    assert refused.value.error_list[0].code == "unassigned"
    assert "4 items still need a new holder" in message
    for label in ("City Events", "Facebook password", "Comms sign-off", "CityOfExample"):
        assert label in message
    assert "Library opening hours" not in message
    case.refresh_from_db()
    assert case.status == HandoverStatus.OPEN


def test_reassigning_moves_ownership_in_each_app_and_sign_off_closes_the_case(holdings):
    case = handover_case_open(membership=holdings.bob, actor=holdings.alice.user)

    moved = handover_items_reassign(
        case=case,
        item_ids=list(case.items.values_list("pk", flat=True)),
        new_holder=holdings.manny,
        actor=holdings.alice.user,
    )

    assert len(moved) == 5
    holdings.post.refresh_from_db()
    assert holdings.post.created_by == holdings.manny.user
    stage = ApprovalStage.objects.get(policy=holdings.policy)
    assert list(stage.reviewers.all()) == [holdings.manny]
    holdings.connected.refresh_from_db()
    assert holdings.connected.connected_by == holdings.manny.user
    holdings.entry.refresh_from_db()
    assert holdings.entry.business_owner == holdings.manny
    assert holdings.entry.technical_custodian == holdings.alice
    holdings.secret.refresh_from_db()
    assert holdings.secret.rotate_by is not None
    org_today = timezone.localdate(
        timezone=zoneinfo.ZoneInfo(holdings.alice.organization.time_zone)
    )
    assert holdings.secret.rotate_by <= org_today
    assert holdings.manny.user.notifications.filter(kind="vault.rotation_due").exists()

    handover_case_sign_off(case=case, actor=holdings.manny.user, notes="All handed over.")

    case.refresh_from_db()
    assert case.status == HandoverStatus.SIGNED_OFF
    assert case.signed_off_by == holdings.manny.user
    assert case.notes == "All handed over."
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "handover.case_opened",
        "handover.items_reassigned",
        "post.author_changed",
        "approval_policy.approver_replaced",
        "channel_account.holder_changed",
        "registry.entry_updated",
        "vault.rotation_requested",
        "handover.case_signed_off",
    } <= actions
    assert audit_verify_chain().ok


def test_an_item_given_to_someone_can_be_given_on_to_someone_else(holdings):
    case = handover_case_open(membership=holdings.bob, actor=holdings.alice.user)
    stage_item = case.items.get(kind="publishing.approvals")
    handover_items_reassign(
        case=case, item_ids=[stage_item.pk], new_holder=holdings.rita, actor=holdings.alice.user
    )

    handover_items_reassign(
        case=case, item_ids=[stage_item.pk], new_holder=holdings.manny, actor=holdings.alice.user
    )

    stage = ApprovalStage.objects.get(policy=holdings.policy)
    assert list(stage.reviewers.all()) == [holdings.manny]
    stage_item.refresh_from_db()
    assert stage_item.new_holder == holdings.manny


def test_a_holder_who_cannot_take_an_item_is_refused_and_nothing_moves(holdings):
    case = handover_case_open(membership=holdings.bob, actor=holdings.alice.user)
    ids = list(
        case.items.filter(kind__in=["publishing.posts", "accounts.connected"]).values_list(
            "pk", flat=True
        )
    )

    # An editor may take posts over but cannot reconnect channel accounts.
    with pytest.raises(ValidationError) as refused:
        handover_items_reassign(
            case=case, item_ids=ids, new_holder=holdings.eddie, actor=holdings.alice.user
        )

    assert refused.value.error_list[0].code == "holder_cannot_manage_accounts"
    holdings.post.refresh_from_db()
    assert holdings.post.created_by == holdings.bob.user
    assert not case.items.filter(new_holder__isnull=False).exists()


@pytest.mark.parametrize("who", ["carol", "bob"])
def test_auditors_and_the_leaving_person_cannot_take_items(holdings, who):
    case = handover_case_open(membership=holdings.bob, actor=holdings.alice.user)

    with pytest.raises(ValidationError) as refused:
        handover_items_reassign(
            case=case,
            item_ids=[case.items.values_list("pk", flat=True)[0]],
            new_holder=getattr(holdings, who),
            actor=holdings.alice.user,
        )

    assert refused.value.error_list[0].code == "invalid_holder"


def test_refresh_adds_what_they_took_on_and_drops_what_they_no_longer_hold(holdings, personas):
    case = handover_case_open(membership=holdings.bob, actor=holdings.alice.user)
    second = scheduled_post(holdings.bob, holdings.rita, personas.bob_account, "Road works")
    holdings.secret.known_by.remove(holdings.bob)

    result = handover_case_refresh(case=case, actor=holdings.manny.user)

    assert (result.added, result.removed) == (1, 1)
    labels = set(case.items.values_list("label", flat=True))
    assert second.title in labels
    assert "Facebook password" not in labels
    assert AuditEvent.objects.filter(action="handover.case_refreshed").exists()


class _BrokenProvider:
    key = "tests.broken"
    label = "Broken area"

    def items_held_by(self, membership):
        raise RuntimeError("the area is down")

    def reassign(self, item_ids, new_holder, actor, *, previous_holder):
        raise AssertionError("never called")


@pytest.fixture
def broken_provider() -> Iterator[None]:
    register_provider(HANDOVER, _BrokenProvider())
    yield
    unregister_provider(HANDOVER, _BrokenProvider.key)


def test_a_failing_area_does_not_stop_deactivation_but_blocks_sign_off(holdings, broken_provider):
    member_deactivate(membership=holdings.bob, actor=holdings.alice.user)

    holdings.bob.refresh_from_db()
    assert not holdings.bob.is_active
    case = _case(holdings)
    assert case.incomplete_sources == ["tests.broken"]
    assert case.items.count() == 5
    handover_items_reassign(
        case=case,
        item_ids=list(case.items.values_list("pk", flat=True)),
        new_holder=holdings.manny,
        actor=holdings.alice.user,
    )

    with pytest.raises(ValidationError) as refused:
        handover_case_sign_off(case=case, actor=holdings.manny.user)

    assert refused.value.error_list[0].code == "incomplete"


def test_a_signed_off_case_cannot_change(holdings):
    case = handover_case_open(membership=holdings.bob, actor=holdings.alice.user)
    handover_items_reassign(
        case=case,
        item_ids=list(case.items.values_list("pk", flat=True)),
        new_holder=holdings.manny,
        actor=holdings.alice.user,
    )
    handover_case_sign_off(case=case, actor=holdings.manny.user)

    with pytest.raises(ValidationError) as refused:
        handover_case_refresh(case=case, actor=holdings.manny.user)

    assert refused.value.error_list[0].code == "case_closed"
