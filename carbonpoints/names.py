"""Names people read, in the reader's language.

The names of partners, sponsors, merchants, scenarios and methodologies are data, and the city
writes them once in both languages, Chinese first: "深圳地铁 Shenzhen Metro", "地铁出行 Metro ride".
Pages show the part in the reader's language (深圳地铁 in zh-hans, Shenzhen Metro in en); a name
written in one language only is shown as it is, in both. The API and exports keep the whole name.
"""

from __future__ import annotations

import re

from django.utils.translation import get_language

# Chinese (no Latin letters), a space, then the English: "绿色便利店 Green Mart", "电动车充电 EV charging".
BILINGUAL = re.compile(
    r"^(?P<zh>[^A-Za-z]*[\u3400-\u9fff][^A-Za-z]*?)\s+(?P<en>[A-Za-z0-9].*)$", re.DOTALL
)


def local_name(name, language: str | None = None) -> str:
    """The part of a bilingual name in ``language`` (the active one by default); other names unchanged."""
    if name is None:
        return ""
    name = str(name)
    parts = BILINGUAL.match(name.strip())
    if parts is None:
        return name
    language = language or get_language() or "zh-hans"
    return parts["zh"].strip() if language.lower().startswith("zh") else parts["en"].strip()
