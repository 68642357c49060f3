from rest_framework import serializers

from accounts.models import User


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class MeSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", allow_null=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "role", "region"]
        read_only_fields = fields


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = MeSerializer()
