from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create or update the account a partner system (DERMS or DACS) uses to call the hub."

    def add_arguments(self, parser):
        parser.add_argument("system", choices=["DERMS", "DACS"])
        parser.add_argument("username")
        parser.add_argument("--password", help="for HTTP Basic; omit to allow token only")
        parser.add_argument("--token", action="store_true", help="print the account's API token (created if needed)")

    def handle(self, system, username, password=None, token=False, **options):
        user, created = User.objects.get_or_create(username=username)
        if not created and user.groups.exclude(name=system).filter(name__in=["DERMS", "DACS"]).exists():
            raise CommandError(f"{username} already belongs to the other partner system")
        if password:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        user.is_staff = False
        user.save()
        user.groups.add(Group.objects.get(name=system))
        self.stdout.write(f"{'created' if created else 'updated'} {system} account {username}")
        if token:
            key, _ = Token.objects.get_or_create(user=user)
            self.stdout.write(f"token: {key.key}")
