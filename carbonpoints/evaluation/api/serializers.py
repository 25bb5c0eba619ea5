"""Shapes of the evaluation's API (levels and rank are in ``me/account``)."""

from rest_framework import serializers


class BadgeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text="In the request's language.")
    rule = serializers.CharField(
        help_text="streak (days in a row), variety (kinds in a month) or milestone (grams)"
    )
    rule_text = serializers.CharField()
    threshold = serializers.IntegerField()
    earned = serializers.BooleanField()
    earned_at = serializers.DateTimeField(allow_null=True)
