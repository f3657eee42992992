"""factory_boy factories for test data."""

from __future__ import annotations

import factory
from django.utils import timezone

from frontline.accounts.models import AgentProfile, Role, Team, User
from frontline.customers.models import Customer, Identity, Order, Organisation
from frontline.tickets.models import Message, Ticket


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@frontline.test")
    role = Role.AGENT
    password = factory.PostGenerationMethodCall("set_password", "password123")

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if create and self.role != Role.CUSTOMER:
            AgentProfile.objects.get_or_create(user=self)
        if create:
            self.save()


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Company {n}")


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    name = factory.Faker("name")


class IdentityFactory(factory.django.DjangoModelFactory[Identity]):
    class Meta:
        model = Identity

    customer = factory.SubFactory(CustomerFactory)
    kind = "email"
    value = factory.Sequence(lambda n: f"customer{n}@example.com")


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    product = "Trail shoes"
    amount = "89.90"
    ordered_at = factory.LazyFunction(timezone.now)


class TicketFactory(factory.django.DjangoModelFactory[Ticket]):
    class Meta:
        model = Ticket

    subject = factory.Sequence(lambda n: f"Question {n}")
    requester = factory.SubFactory(CustomerFactory)
    channel = "email"


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    direction = "inbound"
    author_type = "customer"
    channel = "email"
    text = "Hello"
    html = "<p>Hello</p>"


def customer_user(customer: Customer | None = None, **kwargs) -> User:
    """A portal user linked to a customer."""
    user = UserFactory(role=Role.CUSTOMER, **kwargs)
    customer = customer or CustomerFactory()
    customer.user = user
    customer.save()
    user.refresh_from_db()
    return user


# --- collaboration features (links, time, canned responses, custom fields, skills)

from frontline.accounts.models import AgentSkill, Skill  # noqa: E402
from frontline.tickets.models import CannedResponse, CustomField, TimeEntry  # noqa: E402


class SkillFactory(factory.django.DjangoModelFactory[Skill]):
    class Meta:
        model = Skill
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"skill{n}")


def agent_skill(user: User, name: str, level: int) -> AgentSkill:
    """Give `user` the skill `name` at `level` (1-5)."""
    profile, _ = AgentProfile.objects.get_or_create(user=user)
    return AgentSkill.objects.create(profile=profile, skill=SkillFactory(name=name), level=level)


class TimeEntryFactory(factory.django.DjangoModelFactory[TimeEntry]):
    class Meta:
        model = TimeEntry

    ticket = factory.SubFactory(TicketFactory)
    user = factory.SubFactory(UserFactory)
    started_at = factory.LazyFunction(timezone.now)
    seconds = 600


class CannedResponseFactory(factory.django.DjangoModelFactory[CannedResponse]):
    class Meta:
        model = CannedResponse

    title = factory.Sequence(lambda n: f"Reply {n}")
    body = "Hi {{requester.name}}, thanks for writing."


class CustomFieldFactory(factory.django.DjangoModelFactory[CustomField]):
    class Meta:
        model = CustomField

    key = factory.Sequence(lambda n: f"field-{n}")
    label = factory.LazyAttribute(lambda o: o.key.title())
    type = "text"


# --- workspace

from frontline.web.models import SavedView  # noqa: E402


class SavedViewFactory(factory.django.DjangoModelFactory[SavedView]):
    """A saved ticket view; `owner=None` makes it shared."""

    class Meta:
        model = SavedView

    name = factory.Sequence(lambda n: f"View {n}")
    owner = factory.SubFactory(UserFactory)
    filters = factory.LazyFunction(lambda: {"status": ["open"]})
    sort = "updated"
