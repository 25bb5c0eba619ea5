from rest_framework import serializers


class RegionSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="GB/T 2260 code, e.g. 420100.")
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    parent = serializers.CharField(  # type: ignore[assignment]  # the field named parent, not Field.parent
        source="parent_id", allow_null=True, help_text="The region it lies in."
    )
