"""Forms of the portal: linking a partner with consent per scene, the ledger's period, deletion."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from carbonpoints.earn.models import Partner
from carbonpoints.earn.selectors import partner_regions, scene_titles
from carbonpoints.methodologies.selectors import Catalogue
from carbonpoints.names import local_name
from carbonpoints.regions.selectors import regions_all


class ScenesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class LinkForm(forms.Form):
    """One form per partner: the member id, the scenes (all ticked to begin with), and consent."""

    subject = forms.CharField(label=_("Your member id at the partner"), max_length=128)
    scenes = ScenesField(label=_("Share these records"))
    consent = forms.BooleanField(label=_("I agree to the text above"))

    def __init__(self, *args, partner: Partner, **kwargs):
        kwargs["prefix"] = f"p{partner.pk}"
        super().__init__(*args, **kwargs)
        self.partner = partner
        scenes = self.fields["scenes"]
        assert isinstance(scenes, forms.MultipleChoiceField)
        scenes.choices = list(scene_titles(codes=sorted(partner.actions), local=True).items())
        scenes.initial = sorted(partner.actions)


class ScenesForm(forms.Form):
    scenes = ScenesField(label=_("Share these records"))
    consent = forms.BooleanField(label=_("I agree to the text above"))

    def __init__(self, *args, link, **kwargs):
        super().__init__(*args, prefix=f"l{link.pk}", **kwargs)
        self.fields["scenes"].choices = list(
            scene_titles(codes=sorted(link.partner.actions), local=True).items()
        )
        self.fields["scenes"].initial = link.scenes


class LedgerPeriodForm(forms.Form):
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class DeleteAccountForm(forms.Form):
    password = forms.CharField(label=_("Your password"), widget=forms.PasswordInput, strip=False)
    confirm = forms.BooleanField(label=_("I understand that this cannot be undone"))


class LeaderboardForm(forms.Form):
    nickname = forms.CharField(
        label=_("Nickname shown on the leaderboard"), max_length=30, min_length=2
    )


class ClaimForm(forms.Form):
    """A claim for an action a partner did not send: which partner, what, when, how much, and proof."""

    partner = forms.ModelChoiceField(label=_("Partner"), queryset=Partner.objects.none())
    action = forms.ChoiceField(label=_("Action"))
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=16, decimal_places=6)
    occurred_at = forms.DateTimeField(
        label=_("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    region = forms.ChoiceField(
        label=_("Where it happened"),
        required=False,
        help_text=_("Needed for a partner that serves several cities."),
    )
    evidence = forms.FileField(label=_("Receipt or screenshot (JPEG, PNG, WebP)"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    self_reported = forms.BooleanField(
        label=_("Self-report (no partner record exists; earns a reduced rate where allowed)"),
        required=False,
    )

    def __init__(self, *args, partners, actions, **kwargs):
        super().__init__(*args, **kwargs)
        partner = self.fields["partner"]
        assert isinstance(partner, forms.ModelChoiceField)
        partner.queryset = partners
        partner.label_from_instance = lambda p: local_name(p.name)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        titles = scene_titles(codes=sorted(actions), local=True)
        action.choices = list(titles.items())
        served = {p.pk: partner_regions(p) for p in partners}
        if any(len(regions) > 1 for regions in served.values()):
            region = self.fields["region"]
            assert isinstance(region, forms.ChoiceField)
            names = {r.code: r.name for r in regions_all()}
            codes = sorted(set().union(*served.values()))
            region.choices = [("", "—")] + [(code, names.get(code, code)) for code in codes]
        else:  # no partner of several regions: nothing to ask
            del self.fields["region"]
        catalogue = (
            Catalogue()
        )  # the unit each action is counted in, and at most how much one action can be
        units = []
        for code, title in titles.items():
            methodology = catalogue.methodology_at(code, timezone.now())
            if methodology is not None:
                most = methodology.max_quantity_per_record
                units.append(
                    f"{title}: {methodology.unit}"
                    + (
                        " " + _("(at most %(max)s)") % {"max": f"{most.normalize():f}"}
                        if most is not None
                        else ""
                    )
                )
        self.fields["quantity"].help_text = _("In the action's unit: %(units)s.") % {
            "units": "; ".join(units)
        }


class HomeRegionForm(forms.Form):
    home_region = forms.ChoiceField(label=_("Home region"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_region"].choices = [(r.code, r.name) for r in regions_all()]
