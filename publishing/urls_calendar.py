"""The calendar, its iCalendar feed, and the crisis pause pages."""

from django.urls import URLPattern, path

from publishing.views import calendar, calendar_sources, important_dates, pause

urlpatterns: list[URLPattern] = [
    path("calendar/", calendar.calendar_month_view, name="calendar"),
    path("calendar/week/", calendar.calendar_week_view, name="calendar_week"),
    path("calendar/more/", calendar.calendar_day_more_view, name="calendar_day_more"),
    path("calendar/week/more/", calendar.calendar_week_more_view, name="calendar_week_more"),
    path("calendar/list/", calendar.calendar_list_view, name="calendar_list"),
    path("calendar/posts/<int:pk>/move/", calendar.calendar_move_view, name="calendar_move"),
    path("calendar/feed/new/", calendar.calendar_feed_create_view, name="calendar_feed_create"),
    path("calendar/feed/revoke/", calendar.calendar_feed_revoke_view, name="calendar_feed_revoke"),
    path("calendar/feed/<str:token>.ics", calendar.calendar_feed_view, name="calendar_feed"),
    path("calendar/dates/", important_dates.important_dates_view, name="important_dates"),
    path("calendar/dates/import/", calendar_sources.calendar_import_view, name="calendar_import"),
    path(
        "calendar/dates/import/<int:pk>/",
        calendar_sources.calendar_source_view,
        name="calendar_source",
    ),
    path(
        "calendar/dates/import/<int:pk>/confirm/",
        calendar_sources.calendar_source_confirm_view,
        name="calendar_source_confirm",
    ),
    path(
        "calendar/dates/import/<int:pk>/check/",
        calendar_sources.calendar_source_check_view,
        name="calendar_source_check",
    ),
    path(
        "calendar/dates/import/<int:pk>/discard/",
        calendar_sources.calendar_source_discard_view,
        name="calendar_source_discard",
    ),
    path(
        "calendar/dates/import/<int:pk>/delete/",
        calendar_sources.calendar_source_delete_view,
        name="calendar_source_delete",
    ),
    path("calendar/dates/new/", important_dates.important_date_add_view, name="important_date_add"),
    path(
        "calendar/dates/<int:pk>/",
        important_dates.important_date_edit_view,
        name="important_date_edit",
    ),
    path(
        "calendar/dates/<int:pk>/delete/",
        important_dates.important_date_delete_view,
        name="important_date_delete",
    ),
    path("pause/", pause.pause_view, name="pause"),
    path("pause/start/", pause.pause_start_view, name="pause_start"),
    path("pause/<int:pk>/end/", pause.pause_end_view, name="pause_end"),
    path("pause/held/", pause.held_jobs_view, name="held_jobs"),
    path(
        "pause/held/<int:pk>/publish-now/",
        pause.held_job_publish_now_view,
        name="held_job_publish_now",
    ),
    path(
        "pause/held/<int:pk>/reschedule/",
        pause.held_job_reschedule_view,
        name="held_job_reschedule",
    ),
    path("pause/held/<int:pk>/cancel/", pause.held_job_cancel_view, name="held_job_cancel"),
    path(
        "pause/emergency-publishers/add/",
        pause.emergency_publisher_add_view,
        name="emergency_publisher_add",
    ),
    path(
        "pause/emergency-publishers/<int:pk>/remove/",
        pause.emergency_publisher_remove_view,
        name="emergency_publisher_remove",
    ),
    path(
        "pause/emergency-publish/<int:pk>/",
        pause.emergency_publish_view,
        name="emergency_publish",
    ),
]
