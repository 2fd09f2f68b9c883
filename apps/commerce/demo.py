"""The demo merchant's account: every cause in "An Order Did Not Import", staged once each.

README.md lists the orders (number → what is wrong). Running the seed again
rebuilds the account from scratch, so the demo can always be reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.platforms.amazon import AmazonClient
from apps.platforms.bigcommerce import BigCommerceClient
from apps.platforms.ebay import EbayClient
from apps.platforms.etsy import EtsyClient
from apps.platforms.models import SandboxOrder, SandboxStore
from apps.platforms.sandbox import SandboxClient

from .importing import plugin_sync
from .models import Channel, Membership, Merchant, Order, Plugin, Product

DEMO_MERCHANT = "Whisker & Co."

CATALOG = [
    ("MUG-BLUE-001", "Blue cat mug"),
    ("MUG-WHITE-001", "White cat mug"),
    ("TEE-CAT-M", "Cat T-shirt, M"),
    ("TEE-CAT-L", "Cat T-shirt, L"),
    ("POSTER-A3-CAT", "Cat poster, A3"),
    ("SOCKS-PAWS", "Paw-print socks"),
]

CHANNELS = [
    ("Web store", "web", "shop.whisker.example", "USD", "en-US"),
    ("Wholesale portal", "wholesale", "trade.whisker.example", "USD", "en-US"),
    ("EU marketplace", "eu", "eu.whisker.example", "EUR", "de-DE"),
]


@dataclass(frozen=True)
class DemoPlugin:
    store: str
    name: str
    channels: tuple[str, ...]
    import_orders: bool = True
    store_kwargs: dict | None = None
    token_revoked: bool = False


PLUGINS = [
    DemoPlugin("main", "Demo Marketplace – Main store", ("web",)),
    DemoPlugin("outlet", "Demo Marketplace – Outlet", ("web",), import_orders=False),
    DemoPlugin("wholesale", "Demo Marketplace – Wholesale", ("web", "wholesale")),
    DemoPlugin("eu", "Demo Marketplace – EU store", ("eu",), store_kwargs={"throttle_hours": 24}),
    DemoPlugin("gifts", "Demo Marketplace – Gift shop", ("web",), token_revoked=True),
]


@dataclass(frozen=True)
class DemoOrder:
    store: str
    number: str
    what_is_wrong: str
    step: int | None  # the article's step that names the cause
    days_ago: float = 2
    status: str = "paid"
    skus: tuple[str, ...] = ("MUG-BLUE-001",)
    email: str = "buyer@example.com"
    imitates: str = ""  # a platform whose words the demo marketplace reports this order's status in


IMPORT_ENABLED_DAYS_AGO = 30

ORDERS = [
    DemoOrder("main", "1001", "nothing: it imports", None, days_ago=3, email="ada@example.com"),
    DemoOrder(
        "main",
        "1002",
        "nothing: it imports",
        None,
        days_ago=1,
        skus=("TEE-CAT-M", "SOCKS-PAWS"),
        email="lin@example.com",
    ),
    DemoOrder("main", "1003", "placed before Import Orders was turned on", 3, days_ago=45),
    DemoOrder(
        "main", "1004", "SKU MUG-RED-404 is not in the catalog", 4, skus=("MUG-BLUE-001", "MUG-RED-404")
    ),
    DemoOrder("main", "1005", "the buyer has no email address", 4, email=""),
    DemoOrder("main", "1006", "still pending payment", 6, status="pending_payment"),
    DemoOrder("main", "1007", "on hold for review", 6, status="on_hold"),
    DemoOrder(
        "main", "1008", "as eBay reports it: the payment FAILED", 6, status="failed", imitates=EbayClient.key
    ),
    DemoOrder(
        "main",
        "1009",
        "as BigCommerce reports it: Manual Verification Required",
        6,
        status="on_hold",
        imitates=BigCommerceClient.key,
    ),
    DemoOrder(
        "main",
        "1013",
        "as Amazon reports it: still Pending",
        6,
        status="pending_payment",
        imitates=AmazonClient.key,
    ),
    DemoOrder(
        "main",
        "1014",
        "as Etsy reports it: a receipt not paid yet",
        6,
        status="pending_payment",
        imitates=EtsyClient.key,
    ),
    DemoOrder("outlet", "2001", "Import Orders is off on the Outlet plugin", 1),
    DemoOrder("wholesale", "3001", "the Wholesale plugin is on two channels", 2),
    DemoOrder("eu", "4001", "the platform is rate limiting the EU store plugin", 4),
    DemoOrder("gifts", "5001", "the Gift shop plugin lost its authorization", 5),
]


@transaction.atomic
def demo_account_seed(*, owner) -> Merchant:
    """(Re)build the demo account owned by ``owner`` and run its first sync."""
    # Orders first: they protect the plugins, customers and products they point at.
    Order.objects.filter(merchant__name=DEMO_MERCHANT, merchant__preview_editor=None).delete()
    Merchant.objects.filter(name=DEMO_MERCHANT, preview_editor=None).delete()
    SandboxStore.objects.filter(handle__in=[p.store for p in PLUGINS]).delete()

    merchant = Merchant.objects.create(name=DEMO_MERCHANT)
    Membership.objects.create(user=owner, merchant=merchant, role=Membership.Role.OWNER)
    _account_stage(merchant, store_handle=lambda store: store)
    return merchant


PREVIEW_MERCHANT = "Preview sandbox"


def preview_store_handle(editor_id: int, store: str) -> str:
    """The demo store behind one editor's sandbox plugin: each editor's sandbox has its own stores."""
    return f"preview-{editor_id}-{store}"


@transaction.atomic
def preview_sandbox_build(*, editor) -> Merchant:
    """(Re)build the sandbox account ``editor``'s article previews check: the demo's causes, staged again.

    It has no members, so it is never anyone's account on the help center;
    only a preview reaches it. Building again starts it over (fixes undone).
    """
    Order.objects.filter(merchant__preview_editor=editor).delete()
    Merchant.objects.filter(preview_editor=editor).delete()
    SandboxStore.objects.filter(
        handle__in=[preview_store_handle(editor.pk, p.store) for p in PLUGINS]
    ).delete()

    merchant = Merchant.objects.create(
        name=f"{PREVIEW_MERCHANT} ({editor.get_username()})", preview_editor=editor
    )
    _account_stage(merchant, store_handle=lambda store: preview_store_handle(editor.pk, store))
    return merchant


def _account_stage(merchant: Merchant, *, store_handle) -> None:
    """Give ``merchant`` the demo catalog, channels, plugins and source orders, then sync once."""
    now = timezone.now()
    Product.objects.bulk_create(Product(merchant=merchant, code=code, name=name) for code, name in CATALOG)
    channels = {
        code: Channel.objects.create(
            merchant=merchant,
            name=name,
            code=code,
            hostname=host,
            base_currency=currency,
            default_locale=locale,
        )
        for name, code, host, currency, locale in CHANNELS
    }

    stores = {}
    for spec in PLUGINS:
        throttle_hours = (spec.store_kwargs or {}).get("throttle_hours")
        store = SandboxStore.objects.create(
            handle=store_handle(spec.store),
            name=spec.name.split("– ")[-1],
            throttled_until=now + timedelta(hours=throttle_hours) if throttle_hours else None,
        )
        stores[spec.store] = store
        token = store.access_token
        if spec.token_revoked:
            store.rotate_token()  # the plugin keeps the old token, as after a password change
        plugin = Plugin.objects.create(
            merchant=merchant,
            platform=SandboxClient.key,
            name=spec.name,
            import_orders=spec.import_orders,
            import_orders_enabled_at=now - timedelta(days=IMPORT_ENABLED_DAYS_AGO)
            if spec.import_orders
            else None,
            credentials={"store": store.handle, "access_token": token},
        )
        plugin.channels.set([channels[code] for code in spec.channels])

    SandboxOrder.objects.bulk_create(
        SandboxOrder(
            store=stores[order.store],
            number=order.number,
            placed_at=now - timedelta(days=order.days_ago),
            status=order.status,
            lines=[{"sku": sku, "quantity": 1, "title": dict(CATALOG).get(sku, sku)} for sku in order.skus],
            email=order.email,
            first_name="Demo",
            last_name=f"Buyer {order.number}",
            address_line1="1 Catnip Lane",
            city="Portland",
            postcode="97201",
            country="US",
            currency="USD",
            total=Decimal("24.00") * len(order.skus),
            imitates=order.imitates,
        )
        for order in ORDERS
    )
    for plugin in merchant.plugins.filter(import_orders=True):
        plugin_sync(plugin=plugin, mode="scheduled")


# A second, smaller account the demo merchant belongs to as staff, so the
# account switcher can be tried: its plugin has Import Orders off, and only
# its owner could turn it on.
SECOND_DEMO_MERCHANT = "Purrfect Prints"
SECOND_DEMO_PLUGIN = DemoPlugin("prints", "Demo Marketplace – Print shop", ("web",), import_orders=False)
SECOND_DEMO_ORDER = DemoOrder("prints", "6001", "Import Orders is off; only the owner can turn it on", 1)


@transaction.atomic
def demo_second_account_seed(*, member) -> Merchant:
    """(Re)build the small second account, with ``member`` as staff (not owner)."""
    Merchant.objects.filter(name=SECOND_DEMO_MERCHANT).delete()
    SandboxStore.objects.filter(handle=SECOND_DEMO_PLUGIN.store).delete()

    merchant = Merchant.objects.create(name=SECOND_DEMO_MERCHANT)
    Membership.objects.create(user=member, merchant=merchant, role=Membership.Role.STAFF)
    Product.objects.create(merchant=merchant, code="POSTER-A3-CAT", name="Cat poster, A3")
    channel = Channel.objects.create(
        merchant=merchant, name="Print shop", code="web", hostname="prints.purrfect.example"
    )
    store = SandboxStore.objects.create(handle=SECOND_DEMO_PLUGIN.store, name="Print shop")
    plugin = Plugin.objects.create(
        merchant=merchant,
        platform=SandboxClient.key,
        name=SECOND_DEMO_PLUGIN.name,
        import_orders=False,
        credentials={"store": store.handle, "access_token": store.access_token},
    )
    plugin.channels.set([channel])
    order = SECOND_DEMO_ORDER
    SandboxOrder.objects.create(
        store=store,
        number=order.number,
        placed_at=timezone.now() - timedelta(days=order.days_ago),
        status=order.status,
        lines=[{"sku": "POSTER-A3-CAT", "quantity": 1, "title": "Cat poster, A3"}],
        email=order.email,
        first_name="Demo",
        last_name=f"Buyer {order.number}",
        address_line1="1 Catnip Lane",
        city="Portland",
        postcode="97201",
        country="US",
        currency="USD",
        total=Decimal("18.00"),
    )
    return merchant
