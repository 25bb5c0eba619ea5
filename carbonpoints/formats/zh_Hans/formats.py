"""Simplified Chinese number formats for CarbonPoints: Django's, but grouped in thousands.

Django's zh_Hans formats set no thousand separator, so 3317146 g and 99999999 points read as one
long run of digits. Chinese apps (and the city's own reports) write 3,317,146: so do we. Dates and
times stay Django's (imported below).
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F401,F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
