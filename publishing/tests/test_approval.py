"""Approval stages: one or all, named people or a role, self-approval, edits after approval."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from governance.models import AuditEvent, Membership, Role
from publishing.models import ApprovalDecision, JobStatus, PostStatus, PublishJob
from publishing.selectors import (
    post_approval_state,
    posts_waiting_for_reviewer,
    posts_waiting_for_reviewer_count,
)
from publishing.services.approval import (
    StageInput,
    approval_policy_save,
    post_approve,
    post_request_changes,
)
from publishing.services.posts import post_submit_for_review, variant_save
from publishing.tests.fixtures import approved, draft, scheduled
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def submitted(team, author=None, account=None):
    author = author or team.eddie
    post = draft(author, account or team.account)
    post_submit_for_review(post=post, membership=author)
    post.refresh_from_db()
    return post


def status(post):
    post.refresh_from_db()
    return post.status


def test_without_a_policy_one_approver_is_enough(team):
    post = submitted(team)
    post_approve(post=post, membership=team.manny)
    assert status(post) == PostStatus.APPROVED


def test_without_a_policy_an_editor_cannot_approve(team):
    post = submitted(team)
    with pytest.raises(PermissionDenied):
        post_approve(post=post, membership=team.bob)


def test_an_auditor_never_approves(team):
    post = submitted(team)
    with pytest.raises(PermissionDenied):
        post_approve(post=post, membership=team.carol)


def test_nobody_approves_their_own_post_by_default(team):
    post = submitted(team, author=team.manny)
    with pytest.raises(PermissionDenied, match="your own post"):
        post_approve(post=post, membership=team.manny)
    assert status(post) == PostStatus.IN_REVIEW


def test_a_policy_may_allow_self_approval(team):
    approval_policy_save(
        membership=team.alice,
        name="Fast lane",
        allow_self_approval=True,
        stages=[StageInput(name="Comms", role=Role.MANAGER)],
    )
    post = submitted(team, author=team.manny)
    post_approve(post=post, membership=team.manny)
    assert status(post) == PostStatus.APPROVED


def test_stages_are_taken_in_order(team):
    approval_policy_save(
        membership=team.alice,
        name="Two steps",
        stages=[
            StageInput(name="Reviewer", role=Role.REVIEWER),
            StageInput(name="Manager", role=Role.MANAGER),
        ],
    )
    post = submitted(team)
    # The manager's stage is not open until the reviewer's has passed.
    with pytest.raises(PermissionDenied):
        post_approve(post=post, membership=team.manny)
    assert posts_waiting_for_reviewer(team.manny) == []
    post_approve(post=post, membership=team.rita)
    assert status(post) == PostStatus.IN_REVIEW
    assert posts_waiting_for_reviewer(team.manny) == [post]
    assert "post.review_requested" in team.manny.user.notifications.values_list("kind", flat=True)
    post_approve(post=post, membership=team.manny)
    assert status(post) == PostStatus.APPROVED


def test_a_stage_needing_all_named_people_waits_for_each(team):
    approval_policy_save(
        membership=team.alice,
        name="Both managers",
        stages=[
            StageInput(
                name="Managers", reviewer_ids=[team.manny.pk, team.alice.pk], require_all=True
            )
        ],
    )
    post = submitted(team)
    post_approve(post=post, membership=team.manny)
    assert status(post) == PostStatus.IN_REVIEW
    state = post_approval_state(post)
    assert state.stages[0].waiting_for_user_ids == {team.alice.user_id}
    post_approve(post=post, membership=team.alice)
    assert status(post) == PostStatus.APPROVED


def test_a_stage_needing_one_of_the_named_people_passes_with_one(team):
    approval_policy_save(
        membership=team.alice,
        name="Either",
        stages=[StageInput(name="Either", reviewer_ids=[team.manny.pk, team.alice.pk])],
    )
    post = submitted(team)
    post_approve(post=post, membership=team.alice)
    assert status(post) == PostStatus.APPROVED


def test_named_people_replace_the_role(team):
    approval_policy_save(
        membership=team.alice,
        name="Only Manny",
        stages=[StageInput(name="Manny", reviewer_ids=[team.manny.pk])],
    )
    post = submitted(team)
    with pytest.raises(PermissionDenied):
        post_approve(post=post, membership=team.rita)
    post_approve(post=post, membership=team.manny)
    assert status(post) == PostStatus.APPROVED


def test_a_role_stage_needing_all_counts_every_member_with_that_role(team):
    second: Membership = MembershipFactory(  # type: ignore[assignment]
        organization=team.alice.organization,
        user=UserFactory(email="ronja@example.org"),
        role=Role.REVIEWER,
    )
    approval_policy_save(
        membership=team.alice,
        name="All reviewers",
        stages=[StageInput(name="Reviewers", role=Role.REVIEWER, require_all=True)],
    )
    post = submitted(team)
    post_approve(post=post, membership=team.rita)
    assert status(post) == PostStatus.IN_REVIEW
    post_approve(post=post, membership=second)
    assert status(post) == PostStatus.APPROVED


def test_approving_twice_is_refused(team):
    approval_policy_save(
        membership=team.alice,
        name="All managers",
        stages=[
            StageInput(
                name="Managers", reviewer_ids=[team.manny.pk, team.alice.pk], require_all=True
            )
        ],
    )
    post = submitted(team)
    post_approve(post=post, membership=team.manny)
    with pytest.raises(PermissionDenied, match="already approved"):
        post_approve(post=post, membership=team.manny)


def test_an_account_policy_applies_to_its_account_and_the_default_to_others(team):
    approval_policy_save(
        membership=team.alice,
        name="Mayor's office",
        channel_account=team.other_account,
        stages=[StageInput(name="Mayor's office", reviewer_ids=[team.alice.pk])],
    )
    # A post only to bob_account: the default (any approver) applies.
    post = submitted(team)
    post_approve(post=post, membership=team.rita)
    assert status(post) == PostStatus.APPROVED
    # A post to the mayor's account needs Alice.
    mayor_post = submitted(team, account=team.other_account)
    with pytest.raises(PermissionDenied):
        post_approve(post=mayor_post, membership=team.rita)
    post_approve(post=mayor_post, membership=team.alice)
    assert status(mayor_post) == PostStatus.APPROVED


def test_a_post_to_two_accounts_needs_both_policies(team):
    # Mia (an editor in the mayor's office) is named; she is no approver elsewhere.
    mia: Membership = MembershipFactory(  # type: ignore[assignment]
        organization=team.alice.organization,
        user=UserFactory(email="mia@example.org"),
        role=Role.EDITOR,
    )
    approval_policy_save(
        membership=team.alice,
        name="Mayor's office",
        channel_account=team.other_account,
        stages=[StageInput(name="Mayor's office", reviewer_ids=[mia.pk])],
    )
    post = draft(team.eddie, team.account)
    variant_save(
        post=post, membership=team.eddie, channel_account=team.other_account,
        language="fi", text="Kirjasto aukeaa.",
    )  # fmt: skip
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=mia)
    assert status(post) == PostStatus.IN_REVIEW  # bob_account's default stage is still open
    post_approve(post=post, membership=team.rita)
    assert status(post) == PostStatus.APPROVED


def test_a_policy_with_no_stages_approves_on_submission(team):
    approval_policy_save(membership=team.alice, name="No review", stages=[])
    post = submitted(team)
    assert status(post) == PostStatus.APPROVED
    assert AuditEvent.objects.get(action="post.approved").new_values["automatic"] is True


def test_editing_an_approved_post_sends_it_back_to_review(team):
    post = approved(team)
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account,
        language="fi", text="Library opens at 10.",
    )  # fmt: skip
    assert status(post) == PostStatus.IN_REVIEW
    assert post.review_round == 2
    assert AuditEvent.objects.filter(action="post.returned_to_review").exists()
    # The earlier approval counts for nothing in the new round.
    assert post_approval_state(post).approved is False
    assert posts_waiting_for_reviewer(team.rita) == [post]


def test_editing_a_scheduled_post_cancels_its_jobs_and_sends_it_back(team):
    post = scheduled(team)
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account,
        language="fi", text="Changed.",
    )  # fmt: skip
    assert status(post) == PostStatus.IN_REVIEW
    assert PublishJob.objects.get(post=post).status == JobStatus.CANCELLED


def test_every_decision_is_audited_with_its_comment(team):
    post = submitted(team)
    post_request_changes(post=post, membership=team.rita, comment="Check the date.")
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita, comment="Fine now.")
    decisions = list(ApprovalDecision.objects.filter(post=post).order_by("at", "id"))
    assert [(d.decision, d.comment, d.review_round) for d in decisions] == [
        ("request_changes", "Check the date.", 1),
        ("approve", "Fine now.", 2),
    ]
    approvals = AuditEvent.objects.filter(action="post.review_approved")
    assert approvals.get().new_values["comment"] == "Fine now."


def test_waiting_for_me_lists_only_posts_i_can_decide(team):
    theirs = submitted(team)
    own = submitted(team, author=team.manny)
    assert posts_waiting_for_reviewer(team.rita) == [theirs, own]
    assert posts_waiting_for_reviewer(team.manny) == [theirs]
    assert posts_waiting_for_reviewer(team.bob) == []
    assert posts_waiting_for_reviewer(team.charlie) == []


def test_the_navigation_counts_the_posts_waiting_for_me(team):
    submitted(team)
    submitted(team, author=team.manny)
    for member in (team.rita, team.manny, team.bob, team.charlie):
        assert posts_waiting_for_reviewer_count(member) == len(posts_waiting_for_reviewer(member))
    assert posts_waiting_for_reviewer_count(team.rita) == 2


def test_the_waiting_count_does_not_grow_queries_with_posts(team, django_assert_max_num_queries):
    submitted(team)
    with django_assert_max_num_queries(8) as few:
        assert posts_waiting_for_reviewer_count(team.rita) == 1
    for _ in range(4):
        submitted(team)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert posts_waiting_for_reviewer_count(team.rita) == 5


def test_waiting_for_me_does_not_grow_queries_with_posts(team, django_assert_max_num_queries):
    for _ in range(3):
        submitted(team)
    with django_assert_max_num_queries(8) as few:
        assert len(posts_waiting_for_reviewer(team.rita)) == 3
    for _ in range(5):
        submitted(team)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(posts_waiting_for_reviewer(team.rita)) == 8


def test_only_admins_set_policies(team):
    with pytest.raises(PermissionDenied):
        approval_policy_save(membership=team.manny, name="x", stages=[])


def test_a_member_made_reviewer_after_submission_hears_of_the_waiting_post(
    team, django_capture_on_commit_callbacks
):
    from governance.services.members import member_change_role

    post = submitted(team)
    carol = team.carol
    assert posts_waiting_for_reviewer(carol) == []
    assert not carol.user.notifications.filter(kind="post.review_requested").exists()

    with django_capture_on_commit_callbacks(execute=True):
        member_change_role(membership=carol, actor=team.alice.user, role=Role.REVIEWER)

    carol.refresh_from_db()
    assert posts_waiting_for_reviewer(carol) == [post]
    notice = carol.user.notifications.get(kind="post.review_requested")
    assert notice.message.endswith("is waiting for your review.")
