from rest_framework import serializers


class ExportStatusSerializer(serializers.Serializer):
    id = serializers.CharField()
    state = serializers.CharField(help_text="pending, building, ready or failed")
    progress_percent = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    status_url = serializers.CharField(help_text="Poll this until state is ready.")
    download_url = serializers.CharField(allow_null=True, help_text="The JSON document; add ?as=zip for CSVs.")


class DeleteRequestSerializer(serializers.Serializer):
    password = serializers.CharField(help_text="The account's password, asked again.", trim_whitespace=False)
