"""Version 1 of the catalogue and of the conversion rule (docs/design.md#version-1-of-the-catalogue).

Later changes are new versions with a later validity start (in the admin), never edits here.
"""

from datetime import datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from django.db import migrations

VALID_FROM = datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))

SZ = "深圳市低碳公共出行碳普惠方法学"
CATALOGUE = [
    # code, title, unit, baseline, project, basis, source, max per record, fixed, max km/h, daily cap
    ("metro_ride", "地铁出行 Metro ride", "km", D("46.7"), D("0"), "published",
     f"{SZ}: net reduction 46.7 g CO2 per passenger-km by metro (Shenzhen Commercial Daily, "
     "2022-09-23; another report gives 46.8). Cross-check: Guangzhou metro 515.5 g per trip by the "
     "mean method (Huang et al., 气候变化研究进展 2017, 13(3):284-291).",
     D("80"), None, None, D("100")),
    ("bus_ride", "公交出行 Bus ride", "km", D("26.9"), D("0"), "published",
     f"{SZ}: battery-electric bus, 26.9 g CO2 per passenger-km.", D("60"), None, None, D("100")),
    ("bike_ride", "骑行 Bike ride", "km", D("33.88"), D("0"), "published",
     "Hello shared-bicycle company standard (expert-reviewed): 33.88 g CO2 per person-km (shared "
     "e-bike: 35.01), reported by China Power News 2022-07-21; Chongqing 碳惠通 e-moped "
     "methodology: 43 g/km.", D("30"), None, D("25"), D("30")),
    ("walk", "步行 Walk", "steps", D("0.02"), D("0"), "published",
     "Hubei 碳碳星球 platform credits 0.02 g per step (≈ 200 g per 10,000 steps); Ant Forest's "
     "10,000 steps ≈ 200 g is of the same order.", D("40000"), None, None, D("20000")),
    ("ev_charge", "电动车充电 EV charging", "kWh", D("1074"), D("570.3"), "mixed",
     "Project: China's national average grid factor 0.5703 t CO2/MWh (Ministry of Ecology and "
     "Environment, for 2022). Baseline (estimate): petrol car at 7 L/100 km × 2.3 kg CO2/L over "
     "the 6.67 km an EV drives on 1 kWh.", D("120"), None, None, D("100")),
    ("e_receipt", "电子小票 E-receipt", "receipts", D("3"), D("0"), "estimate",
     "Estimate: a paper receipt avoided (conservative placeholder, to be replaced by a published "
     "figure).", None, D("1"), None, D("20")),
    ("recycling", "回收 Recycling", "kg", D("500"), D("0"), "estimate",
     "Estimate: mixed household recyclables, conservative placeholder.", D("50"), None, None, D("20")),
    ("no_cutlery", "外卖不要餐具 No disposable cutlery", "orders", D("16"), D("0"), "estimate",
     "Estimate: a set of disposable cutlery avoided; a group standard on quantifying 'no disposable "
     "cutlery' reductions exists, with an emission-factor annex, to be substituted.",
     None, D("1"), None, D("3")),
]


def forward(apps, schema_editor):
    Methodology = apps.get_model("methodologies", "Methodology")
    ConversionRule = apps.get_model("methodologies", "ConversionRule")
    for code, title, unit, baseline, project, basis, source, max_q, fixed, speed, daily in CATALOGUE:
        Methodology.objects.get_or_create(code=code, version=1, defaults=dict(
            title=title, unit=unit, baseline_g_per_unit=baseline, project_g_per_unit=project,
            basis=basis, source=source, valid_from=VALID_FROM, max_quantity_per_record=max_q,
            fixed_quantity=fixed, max_speed_kmh=speed, daily_cap=daily,
        ))
    if not ConversionRule.objects.exists():
        ConversionRule.objects.create(grams_per_point=10, valid_from=VALID_FROM,
                                      note="v1: 1 point per 10 g CO2e verified (remainders carried)")


def backward(apps, schema_editor):
    apps.get_model("methodologies", "Methodology").objects.filter(version=1).delete()
    apps.get_model("methodologies", "ConversionRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("methodologies", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
