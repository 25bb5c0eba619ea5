import pytest
from rest_framework.test import APIClient

from tests.factories import CitizenFactory

from .factories import CashierFactory, StaffFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Hashing staff and citizen passwords at full strength would dominate these tests' time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def manager(db):
    return StaffFactory()


@pytest.fixture
def merchant(manager):
    return manager.merchant


@pytest.fixture
def cashier(merchant):
    return CashierFactory(merchant=merchant)


@pytest.fixture
def manager_client(manager):
    return client_for(manager.user)


@pytest.fixture
def cashier_client(cashier):
    return client_for(cashier.user)


@pytest.fixture
def make_citizen(db):
    def make(points: int = 0):
        from .factories import give_points

        user = CitizenFactory()
        if points:
            give_points(user, points)
        return user

    return make


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert isinstance(body["error"]["details"], dict)
    return body["error"]
