"""The Redis cache's writes of many keys: each key with its value and its expiry."""

import pytest
from django.core.cache import cache, caches

from carbonpoints.cache import RedisCache

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_cache():
    """The default cache, which is Redis wherever Redis is (the ``redis`` marker makes a missing
    Redis a failure on CI, a skip on a developer's machine, before this runs)."""
    assert isinstance(caches["default"], RedisCache)
    return cache


@pytest.mark.parametrize("keys", [["one"], ["a", "b", "c"]], ids=["one key", "three keys"])
def test_set_many_sets_each_value_with_its_expiry(redis_cache, keys):
    redis_cache.set_many({key: {"value": key} for key in keys}, 30)
    assert redis_cache.get_many(keys) == {key: {"value": key} for key in keys}
    client = redis_cache._cache.get_client(write=True)
    for key in keys:
        assert 0 < client.ttl(redis_cache.make_key(key)) <= 30


def test_set_many_without_expiry_keeps_and_with_zero_forgets(redis_cache):
    redis_cache.set_many({"kept": 1, "also": "x"}, None)
    client = redis_cache._cache.get_client(write=True)
    assert client.ttl(redis_cache.make_key("kept")) == -1 and redis_cache.get("also") == "x"
    redis_cache.set_many({"kept": 2, "also": "y"}, 0)
    assert redis_cache.get_many(["kept", "also"]) == {}
