"""The regions a new deployment knows: Hubei and the cities the demo runs (GB/T 2260)."""

from django.conf import settings

from . import codes

HUBEI = (
    ("420000", "湖北省", "Hubei", None),
    ("420100", "武汉市", "Wuhan", "420000"),
    ("420500", "宜昌市", "Yichang", "420000"),
    ("420600", "襄阳市", "Xiangyang", "420000"),
)


def regions_seed(region_model) -> None:
    """Hubei and its cities, and the default region (with those it lies in) when it is another;
    ``region_model`` is the model class (a migration passes its historical one)."""
    for code, name_zh, name_en, parent in HUBEI:
        region_model.objects.get_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en, "parent_id": parent}
        )
    for code in reversed(codes.chain(settings.DEFAULT_REGION)):  # its province first
        region_model.objects.get_or_create(
            code=code,
            defaults={"name_zh": code, "name_en": code, "parent_id": codes.parent_of(code)},
        )
