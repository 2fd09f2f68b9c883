"""factory_boy factories for the account, its plugins and the demo marketplace."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.commerce.models import Channel, Membership, Merchant, Plugin, Product
from apps.platforms.models import SandboxOrder, SandboxStore


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Merchant {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Membership.Role.OWNER


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Channel {n}")
    code = factory.Sequence(lambda n: f"ch{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"SKU-{n}")
    name = factory.LazyAttribute(lambda p: f"Product {p.code}")


class SandboxStoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxStore

    handle = factory.Sequence(lambda n: f"store{n}")
    name = factory.LazyAttribute(lambda s: f"Store {s.handle}")


class PluginFactory(factory.django.DjangoModelFactory):
    """A demo-marketplace plugin on one channel, importing since 30 days ago."""

    class Meta:
        model = Plugin
        skip_postgeneration_save = True

    class Params:
        store = factory.SubFactory(SandboxStoreFactory)

    merchant = factory.SubFactory(MerchantFactory)
    platform = "sandbox"
    name = factory.Sequence(lambda n: f"Demo Marketplace – Store {n}")
    import_orders = True
    import_orders_enabled_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    credentials = factory.LazyAttribute(
        lambda p: {"store": p.store.handle, "access_token": p.store.access_token}
    )

    @factory.post_generation
    def channels(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            extracted = [ChannelFactory(merchant=self.merchant)]
        self.channels.set(extracted)


class SandboxOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxOrder

    store = factory.SubFactory(SandboxStoreFactory)
    number = factory.Sequence(lambda n: str(10000 + n))
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    status = "paid"
    lines = factory.LazyFunction(lambda: [{"sku": "SKU-A", "quantity": 1, "title": "A"}])
    email = factory.LazyAttribute(lambda o: f"buyer{o.number}@example.com")
    first_name = "Pat"
    last_name = factory.LazyAttribute(lambda o: f"Buyer {o.number}")
    currency = "USD"
    total = Decimal("10.00")


def store_of(plugin: Plugin) -> SandboxStore:
    return SandboxStore.objects.get(handle=plugin.credentials["store"])


def fresh_order(plugin: Plugin, number: str = "1010", **fields) -> SandboxOrder:
    """An order placed a minute ago on the plugin's demo store: no sync has seen it yet."""
    fields.setdefault("placed_at", timezone.now() - timedelta(minutes=1))
    fields.setdefault("lines", [{"sku": "MUG-BLUE-001", "quantity": 1, "title": "Blue mug"}])
    return SandboxOrderFactory(store=store_of(plugin), number=number, **fields)


def order_inputs(number: str, placed_date=None) -> dict:
    """A diagnosis' check-set fields for an order looked for with "An Order Did Not Import"."""
    return {
        "check_set": "order-import",
        "reference": number,
        "inputs": {"order_number": number, "placed_date": placed_date.isoformat() if placed_date else ""},
    }
