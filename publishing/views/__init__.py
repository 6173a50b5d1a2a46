"""Publishing pages: posts, compose and review (``posts``), the media library
(``media``), approval policies and publishing rules (``approval``), the calendar and
its feed (``calendar``), and the crisis pause (``pause``)."""
