from django.urls import path

from . import views

urlpatterns = [
    path("me/claims", views.MyClaimsView.as_view(), name="me-claims"),
    path("partner/claims", views.PartnerClaimsView.as_view(), name="partner-claims"),
    path(
        "partner/claims/<int:claim_id>/confirm",
        views.PartnerClaimConfirmView.as_view(),
        name="partner-claim-confirm",
    ),
    path(
        "partner/claims/<int:claim_id>/deny",
        views.PartnerClaimDenyView.as_view(),
        name="partner-claim-deny",
    ),
    path(
        "partner/claims/<int:claim_id>/evidence",
        views.PartnerClaimEvidenceView.as_view(),
        name="partner-claim-evidence",
    ),
]
