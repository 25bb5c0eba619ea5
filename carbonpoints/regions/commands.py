"""The operator commands' ``--operator`` and ``--region``: a command acts for an operator, with
their authority (a city's operator: their city only), or, without ``--operator``, as the platform
(every region, as the commands always did)."""

from __future__ import annotations

from django.core.management.base import CommandError

from . import codes
from .authority import has_authority, operator_named_regions
from .selectors import region_codes


def add_operator_arguments(parser, *, regions: bool = False) -> None:
    parser.add_argument(
        "--operator",
        metavar="EMAIL",
        help="act for this operator (their e-mail): only in the regions they have authority "
        "over, and recorded as theirs; without it the command acts as the platform",
    )
    if regions:
        parser.add_argument(
            "--regions",
            default="",
            help="comma-separated GB/T 2260 codes it is approved for, e.g. 420100,420500; "
            "none: the operator's region, else the default region",
        )
    else:
        parser.add_argument(
            "--region",
            help="its region (GB/T 2260 code, e.g. 420500); none: the operator's region, else "
            "the default region",
        )


def operator_from(options) -> object | None:
    """The operator ``--operator`` names (a staff user), or None: the platform."""
    from accounts.models import User

    email = options.get("operator")
    if not email:
        return None
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.is_staff:
        raise CommandError(f"--operator {email}: no active operator (staff user) has this e-mail")
    return user


def regions_from(options, operator, *, many: bool = False) -> list[str]:
    """The regions the command acts in: those asked, else the operator's own (a city's operator
    names one), else the default region; each known, and within the operator's authority."""
    asked = options.get("regions" if many else "region") or ""
    wanted = [code.strip() for code in asked.split(",") if code.strip()]
    if not wanted:
        own = operator_named_regions(operator) if operator is not None else []
        wanted = own[:1] if len(own) == 1 else [codes.default()]
    known = region_codes() | {codes.default()}
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise CommandError(f"unknown region {', '.join(unknown)} (a GB/T 2260 code of a region)")
    outside = [code for code in wanted if not has_authority(operator, code)]
    if outside:
        raise CommandError(
            f"refused (outside_region): {operator} is not an operator of region "
            f"{', '.join(outside)}; their regions: {', '.join(operator_named_regions(operator))}"
        )
    return wanted
