"""Regions are data, coded by GB/T 2260: the tree the codes make, and the regions a new
deployment knows."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from carbonpoints.regions import codes
from carbonpoints.regions.models import Region


def test_a_city_lies_in_its_province_and_a_county_in_its_city():
    assert codes.chain("420100") == ("420100", "420000")
    assert codes.chain("420102") == ("420102", "420100", "420000")
    assert codes.chain("420000") == ("420000",)
    assert codes.within("420500", "420000") and not codes.within("420500", "420100")


@override_settings(DEFAULT_REGION="420600")
def test_no_region_named_is_the_default_region():
    assert codes.chain("") == ("420600", "420000")
    assert codes.chain(None) == ("420600", "420000")


@pytest.mark.django_db
def test_hubei_and_its_cities_are_there_from_the_start():
    known = {r.code: (r.name_zh, r.name_en, r.parent_id) for r in Region.objects.all()}
    assert (
        known.items()
        >= {
            "420000": ("湖北省", "Hubei", None),
            "420100": ("武汉市", "Wuhan", "420000"),
            "420500": ("宜昌市", "Yichang", "420000"),
            "420600": ("襄阳市", "Xiangyang", "420000"),
        }.items()
    )


@pytest.mark.django_db
def test_a_region_parent_is_the_region_its_code_lies_in():
    with pytest.raises(ValidationError):
        Region(code="420700", name_zh="鄂州市", name_en="Ezhou", parent_id="420100").full_clean()
    Region(code="420700", name_zh="鄂州市", name_en="Ezhou", parent_id="420000").full_clean()
    with pytest.raises(ValidationError):
        Region(code="42010", name_zh="x", name_en="x").full_clean()


@pytest.mark.parametrize(
    ("named", "approved", "expected"),
    [
        (None, {"420100"}, ("420100", "")),  # a city's metro need not name its city
        ("", {"420100"}, ("420100", "")),
        ("420500", {"420100", "420500"}, ("420500", "")),
        (None, {"420100", "420500"}, ("", "region_required")),  # a bike share of several cities
        ("420600", {"420100", "420500"}, ("", "region_not_approved")),
        ("420600", {"420100"}, ("", "region_not_approved")),
    ],
)
def test_where_an_action_happened_is_named_or_the_partners_one_region(named, approved, expected):
    assert codes.where_it_happened(named, frozenset(approved)) == expected
