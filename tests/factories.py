import factory
from django.contrib.auth.models import Group, User

from flows.enrollment_requests.samples import enrollment_request
from hub.models import Item, Message


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def groups(user: User, create: bool, extracted: list[str] | None, **kwargs) -> None:
        for name in extracted or []:
            user.groups.add(Group.objects.get(name=name))
        user.save()


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    class Meta:
        model = Message

    flow = "enrollment_requests"
    sender = "DERMS"
    message_key = factory.Sequence(lambda n: f"MSG-{n:05d}")
    accepted_key = factory.SelfAttribute("message_key")
    status = Message.Status.QUEUED


class EnrollmentItemFactory(factory.django.DjangoModelFactory[Item]):
    class Meta:
        model = Item

    message = factory.SubFactory(MessageFactory)
    seq = factory.Sequence(lambda n: n)
    key = factory.LazyAttribute(lambda o: str(o.seq + 1))
    data = factory.LazyAttribute(lambda o: enrollment_request(o.key))
