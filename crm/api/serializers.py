from rest_framework import serializers

from crm.models import Team, User


class UserSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "first_name", "last_name", "email",
                  "role", "team", "hire_date", "is_active"]
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "parent", "manager"]
        read_only_fields = fields
