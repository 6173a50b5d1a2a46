"""One way to write a date and a time per interface language.

Every page, e-mail, notification and on-screen table formats dates through
Django's format names (``DATE_FORMAT``, ``DATETIME_FORMAT``, ``TIME_FORMAT``,
in templates ``|date:"DATETIME_FORMAT"``), and the ``SHORT_*`` names are the
same rule, so a page never mixes ``7 Dec 2026`` with ``12/07/2026`` or
``2026-12-07``. The patterns follow the Unicode CLDR's medium formats (the
ones Babel uses for the date ranges in ``governance.dates``), so a single date
and a range read alike. Clocks are 24-hour in every language: English too,
as GovSocial serves European public bodies, where the 12-hour clock is not
the norm (British English follows the same CLDR pattern, en_GB).

Machine-readable dates stay ISO 8601: ``<time datetime>``, URLs, hidden form
fields, API bodies and CSV files.
"""
