from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from mobiledb.models import CustomField
from mobiledb.persons.custom_fields import custom_field_create
from vibesweb.tenancy.models import Company


class Command(BaseCommand):
    help = "Define a custom field for a company's persons."

    def add_arguments(self, parser):
        parser.add_argument("key", help="company key")
        parser.add_argument("name", help="exact, case-sensitive field name")
        parser.add_argument("--type", required=True, choices=CustomField.DataType.values)
        parser.add_argument(
            "--option", action="append", default=[], metavar="KEY=LABEL", help="repeat for selects"
        )
        parser.add_argument("--charset", default="unicode", choices=CustomField.CharacterSet.values)
        parser.add_argument("--max-length", type=int, default=None)

    def handle(self, *args, key, name, type, option, charset, max_length, **options):
        company = Company.objects.filter(key=key).first()
        if company is None:
            raise CommandError(f"No company with key '{key}'")
        parsed = []
        for item in option:
            option_key, sep, label = item.partition("=")
            if not sep or not option_key:
                raise CommandError(f"--option takes KEY=LABEL, got '{item}'")
            parsed.append((option_key, label or option_key))
        try:
            field = custom_field_create(
                company=company,
                name=name,
                data_type=type,
                character_set=charset,
                max_length=max_length,
                options=parsed,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(f"Created custom field {field.name} ({field.data_type})")
        self.stdout.write(str(field.pk))
