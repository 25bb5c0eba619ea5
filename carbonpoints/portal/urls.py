from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.my_carbon, name="my-account"),
    path("me/actions/", views.actions, name="portal-actions"),
    path("me/points/", views.ledger, name="portal-ledger"),
    path("me/links/", views.links, name="portal-links"),
    path("me/links/<int:link_id>/scenes", views.link_scenes, name="portal-link-scenes"),
    path("me/links/<int:link_id>/revoke", views.link_revoke, name="portal-link-revoke"),
    path("me/claims/", views.claims, name="portal-claims"),
    path("me/redemptions/", views.redemptions, name="portal-redemptions"),
    path("me/certificates/", views.certificates, name="portal-certificates"),
    path("me/evaluation/", views.evaluation, name="portal-evaluation"),
    path("me/notifications/", views.notifications, name="portal-notifications"),
    path("me/notifications/read", views.notifications_read, name="portal-notifications-read"),
    path("me/account/", views.account_page, name="portal-account"),
    path("me/account/region", views.account_region, name="portal-account-region"),
    path("me/account/export.zip", views.export, name="portal-export"),
    path(
        "me/account/exports/<uuid:export_id>.zip",
        views.export_download,
        name="portal-export-download",
    ),
    path("me/account/delete", views.delete, name="portal-delete"),
]
