"""The demo city: ``manage.py seed_demo`` runs each app's seeding step in the order data flows."""
