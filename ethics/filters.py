import django_filters

from ethics.models import CrisisAlert, Resource


class CrisisAlertFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CrisisAlert.Status.choices)

    class Meta:
        model = CrisisAlert
        fields = ["status"]


class ResourceFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Resource.Kind.choices)

    class Meta:
        model = Resource
        fields = ["kind", "region", "language"]
