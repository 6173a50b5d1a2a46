"""Posts, compose, review, the media library, approval policies and publishing rules."""

from django.urls import URLPattern, path

from publishing.views import (
    approval,
    bulk_import,
    compose_images,
    links,
    media,
    outside_review,
    posts,
    queue,
)

urlpatterns: list[URLPattern] = [
    path("posts/", posts.post_list_view, name="post_list"),
    path("posts/new/", posts.compose_view, name="compose"),
    path("posts/check/", posts.compose_check_view, name="compose_check"),
    path("posts/images/", compose_images.compose_image_upload_view, name="compose_image_upload"),
    path("posts/images/<int:pk>/", compose_images.compose_image_view, name="compose_image"),
    path("posts/<int:pk>/", posts.post_detail_view, name="post_detail"),
    path("posts/<int:pk>/edit/", posts.post_edit_view, name="post_edit"),
    path("posts/<int:pk>/submit/", posts.post_submit_view, name="post_submit"),
    path("posts/<int:pk>/withdraw/", posts.post_withdraw_view, name="post_withdraw"),
    path("posts/<int:pk>/review/", posts.post_review_view, name="post_review"),
    path("posts/<int:pk>/schedule/", posts.post_schedule_view, name="post_schedule"),
    path("posts/<int:pk>/unschedule/", posts.post_unschedule_view, name="post_unschedule"),
    path("posts/<int:pk>/cancel/", posts.post_cancel_view, name="post_cancel"),
    path("targets/<int:pk>/retry/", posts.job_retry_view, name="job_retry"),
    path("targets/<int:pk>/delete/", posts.job_delete_view, name="job_delete"),
    path("review/", posts.review_queue_view, name="review_queue"),
    # An outside reviewer's link: no login, the token is the permission.
    path(
        "outside-review/<str:token>/",
        outside_review.outside_review_view,
        name="outside_review",
    ),
    path(
        "outside-reviews/<int:pk>/resend/",
        outside_review.outside_review_resend_view,
        name="outside_review_resend",
    ),
    path(
        "outside-reviews/<int:pk>/revoke/",
        outside_review.outside_review_revoke_view,
        name="outside_review_revoke",
    ),
    path("media/", media.media_library_view, name="media"),
    path("media/<int:pk>/", media.media_detail_view, name="media_detail"),
    path("media/<int:pk>/file/", media.media_file_view, name="media_file"),
    path("media/public/<str:token>/", media.media_public_view, name="media_public"),
    path("media/<int:pk>/delete/", media.media_delete_view, name="media_delete"),
    path("approval-policies/", approval.policy_list_view, name="approval_policies"),
    path("approval-policies/new/", approval.policy_create_view, name="approval_policy_new"),
    path("approval-policies/<int:pk>/", approval.policy_edit_view, name="approval_policy_edit"),
    path(
        "approval-policies/<int:pk>/delete/",
        approval.policy_delete_view,
        name="approval_policy_delete",
    ),
    path("rules/", approval.publishing_rules_view, name="rules"),
    path("import/", bulk_import.import_upload_view, name="import"),
    path("import/template.csv", bulk_import.import_template_view, name="import_template"),
    path("import/<int:pk>/", bulk_import.import_detail_view, name="import_detail"),
    path("import/<int:pk>/start/", bulk_import.import_start_view, name="import_start"),
    path("import/<int:pk>/progress/", bulk_import.import_progress_view, name="import_progress"),
    path(
        "import/<int:pk>/problems.csv",
        bulk_import.import_problems_csv_view,
        name="import_problems_csv",
    ),
    path("links/", links.link_settings_view, name="link_settings"),
    path("queue/", queue.queue_slots_view, name="queue_slots"),
    path("queue/<int:pk>/remove/", queue.queue_slot_remove_view, name="queue_slot_remove"),
    path("queue/<int:pk>/toggle/", queue.queue_slot_toggle_view, name="queue_slot_toggle"),
    path("posts/<int:pk>/schedule-next/", posts.post_schedule_next_view, name="post_schedule_next"),
]
