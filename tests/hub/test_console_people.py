"""People: console users and their one role, the users page, the 403 page, "View site", History."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.urls import reverse

from hub.admin.roles import BUSINESS, SUPPORT
from hub.models import Lookup, Message
from tests.factories import UserFactory
from tests.hub.test_admin_data import console_user, failed_enrollment

pytestmark = pytest.mark.django_db


def groups(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def console_user_command(*args, **options) -> str:
    out = StringIO()
    call_command("console_user", *args, stdout=out, **options)
    return out.getvalue()


# --- manage.py console_user ------------------------------------------------------------------------
def test_it_creates_a_support_user_with_a_generated_password_printed_once():
    out = console_user_command("maria", role="support")
    assert "created console user maria with role support" in out
    password = out.split("password: ")[1].strip()
    user = authenticate(username="maria", password=password)
    assert user is not None and user.is_staff and not user.is_superuser
    assert groups("maria") == {SUPPORT}


def test_it_takes_the_password_from_the_option_or_the_environment(monkeypatch):
    out = console_user_command("ben", role="business", password="a-long-pass-phrase-1")
    assert "password:" not in out and authenticate(username="ben", password="a-long-pass-phrase-1")
    monkeypatch.setenv("CONSOLE_USER_PASSWORD", "another-long-phrase-2")
    console_user_command("cleo", role="business")
    assert authenticate(username="cleo", password="another-long-phrase-2")


def test_it_moves_a_user_to_the_other_role_and_keeps_the_password():
    console_user_command("ben", role="business", password="a-long-pass-phrase-1")
    out = console_user_command("ben", role="support")
    assert "updated console user ben with role support" in out and "password:" not in out
    assert groups("ben") == {SUPPORT}
    assert authenticate(username="ben", password="a-long-pass-phrase-1")


def test_it_gives_a_new_password_on_request():
    console_user_command("ben", role="business", password="a-long-pass-phrase-1")
    out = console_user_command("ben", role="business", new_password=True)
    assert authenticate(username="ben", password=out.split("password: ")[1].strip())


@pytest.mark.parametrize("role", ["admin", "", "Business users"])
def test_it_refuses_an_unknown_role_clearly_and_creates_nobody(role):
    with pytest.raises(CommandError, match=r"Unknown role .*: choose one of business, support\."):
        console_user_command("ben", role=role)
    assert not User.objects.filter(username="ben").exists()


def test_it_refuses_a_partner_account_and_a_weak_password():
    UserFactory.create(username="derms", groups=["DERMS"])
    with pytest.raises(CommandError, match="derms is the DERMS partner account; partner accounts cannot use"):
        console_user_command("derms", role="support")
    assert groups("derms") == {"DERMS"} and not User.objects.get(username="derms").is_staff
    with pytest.raises(CommandError, match="The password is refused: This password is too short"):
        console_user_command("ben", role="support", password="short")
    assert not User.objects.filter(username="ben").exists()


# --- the users page ------------------------------------------------------------------------------------
@pytest.fixture
def superuser(client):
    client.force_login(console_user("super"))
    return client


def test_the_users_page_adds_a_user_in_one_role(superuser):
    page = superuser.get(reverse("admin:auth_user_add")).content.decode()
    assert 'name="role"' in page and "Support: also resubmits" in page
    response = superuser.post(
        reverse("admin:auth_user_add"),
        {
            "username": "dora",
            "usable_password": "true",
            "password1": "a-long-pass-phrase-1",
            "password2": "a-long-pass-phrase-1",
            "role": "support",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    dora = User.objects.get(username="dora")
    assert dora.is_staff and groups("dora") == {SUPPORT}


def test_the_role_is_one_choice_apart_from_the_partner_groups(superuser):
    Group.objects.create(name="Night shift")
    ben = UserFactory.create(username="ben", is_staff=True, groups=[BUSINESS])
    form = superuser.get(reverse("admin:auth_user_change", args=[ben.pk])).context["adminform"].form
    assert form.fields["role"].initial == "business"
    assert [g.name for g in form.fields["groups"].queryset] == ["Night shift"]
    data = {
        "username": "ben",
        "is_active": "on",
        "is_staff": "on",
        "role": "support",
        "groups": [Group.objects.get(name="Night shift").pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = superuser.post(reverse("admin:auth_user_change", args=[ben.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert groups("ben") == {SUPPORT, "Night shift"}


def test_a_partner_account_keeps_its_system_and_takes_no_role(superuser):
    derms = UserFactory.create(username="derms", groups=["DERMS"])
    url = reverse("admin:auth_user_change", args=[derms.pk])
    page = superuser.get(url).content.decode()
    assert "DERMS: this account calls the hub&#x27;s API" in page
    data = {"username": "derms", "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}
    response = superuser.post(url, {**data, "role": "support"})
    assert response.status_code == 200
    assert "This is the DERMS partner account; partner accounts cannot use the console." in response.content.decode()
    assert superuser.post(url, {**data, "first_name": "Grid"}).status_code == 302
    assert groups("derms") == {"DERMS"}


# --- the 403 page, the sender's link, "View site" ---------------------------------------------------
def test_a_permission_denial_is_a_styled_page_naming_the_role(client):
    client.force_login(console_user("Business users"))
    message = failed_enrollment()
    response = client.get(reverse("admin:hub_message_resubmit", args=[message.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>You cannot open this page</h1>" in html and "admin/css/base.css" in html
    assert "with the role <strong>Business users</strong>" in html
    assert "DERMS–DACS integration hub" in html and 'id="nav-sidebar"' in html
    assert f'href="{reverse("admin:index")}"' in html


def test_the_sender_account_is_linked_only_for_those_who_may_open_it(client):
    derms = UserFactory.create(username="derms", groups=["DERMS"])
    message = failed_enrollment()
    Message.objects.filter(pk=message.pk).update(sender_user=derms)
    user_page = reverse("admin:auth_user_change", args=[derms.pk])
    for role in ("Business users", "Support"):
        client.force_login(console_user(role))
        html = client.get(reverse("admin:hub_message_change", args=[message.pk])).content.decode()
        assert user_page not in html and "derms" in html[html.index("field-sender_account") :][:400], role
        assert client.get(user_page).status_code == 403  # why the link is not offered
    client.force_login(console_user("super"))
    assert user_page in client.get(reverse("admin:hub_message_change", args=[message.pk])).content.decode()


def test_view_site_goes_to_the_console(client):
    client.force_login(console_user("Support"))
    html = client.get(reverse("admin:hub_message_changelist")).content.decode()
    assert f'<a href="{reverse("admin:index")}">View site</a>' in html


# --- History --------------------------------------------------------------------------------------------
def test_history_shows_who_acted_on_a_message_and_why(client):
    support = console_user("Support")
    client.force_login(support)
    message = failed_enrollment()
    history = reverse("admin:hub_message_history", args=[message.pk])
    assert "Nobody has resubmitted, retried or discarded it." in client.get(history).content.decode()
    client.post(reverse("admin:hub_message_discard", args=[message.pk]), {"reason": "sent again as DRMS-ENR-2"})
    html = client.get(history).content.decode()
    row = html[html.index('id="actions-taken"') :]
    assert "discarded" in row and "support" in row and "sent again as DRMS-ENR-2" in row
    assert "accepted" not in row  # the hub's own steps stay in the timeline
    assert "doesn’t have a change history" not in html


def test_lookup_history_shows_old_and_new_values(client):
    client.force_login(console_user("Support"))
    lookup = Lookup.objects.get(kind="asset_type", source="THERMOSTAT")
    old = lookup.target
    url = reverse("admin:hub_lookup_change", args=[lookup.pk])
    client.post(url, {"kind": lookup.kind, "source": lookup.source, "target": "X1TX", "description": "test"})
    html = client.get(reverse("admin:hub_lookup_history", args=[lookup.pk])).content.decode()
    assert f"Changed Target: “{old}” → “X1TX”; Description: “{lookup.description}” → “test”." in html
