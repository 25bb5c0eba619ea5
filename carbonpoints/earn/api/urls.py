from django.urls import path

from . import views

urlpatterns = [
    path("partner/events", views.PartnerEventsView.as_view(), name="partner-events"),
    path(
        "partner/events/<path:external_id>/retract",
        views.PartnerEventRetractView.as_view(),
        name="partner-event-retract",
    ),
    path(
        "partner/events/<path:external_id>/correct",
        views.PartnerEventCorrectView.as_view(),
        name="partner-event-correct",
    ),
    path(
        "partner/events/<path:external_id>", views.PartnerEventView.as_view(), name="partner-event"
    ),
    path("partner/batches/<uuid:batch_id>", views.PartnerBatchView.as_view(), name="partner-batch"),
    path("partner/uploads", views.PartnerUploadsView.as_view(), name="partner-uploads"),
    path(
        "partner/uploads/<uuid:upload_id>", views.PartnerUploadView.as_view(), name="partner-upload"
    ),
    path("partners", views.PartnersView.as_view(), name="partners"),
    path("me/links", views.MyLinksView.as_view(), name="me-links"),
    path("me/links/<int:link_id>", views.MyLinkView.as_view(), name="me-link"),
    path("me/actions", views.MyActionsView.as_view(), name="me-actions"),
    path("me/actions/<int:action_id>", views.MyActionView.as_view(), name="me-action"),
]
