"""The demo merchant's account: every cause in "An Order Did Not Import", and in "An Order
Imported Twice", staged once each.

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
from .models import Channel, Customer, Membership, Merchant, Order, OrderLine, Plugin, Product, SyncRun

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
    SandboxStore.objects.filter(handle__in=demo_store_handles()).delete()

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
        handle__in=[preview_store_handle(editor.pk, store) for store in demo_store_handles()]
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

    SandboxOrder.objects.bulk_create(_sandbox_order(stores[order.store], order, now) for order in ORDERS)
    for plugin in merchant.plugins.filter(import_orders=True):
        plugin_sync(plugin=plugin, mode="scheduled")
    _twice_stage(merchant, channels, store_handle=store_handle, now=now)


# --- "An Order Imported Twice": each cause of a second copy, staged once ----------------

TWICE_ARTICLE = "An Order Imported Twice"


@dataclass(frozen=True)
class TwiceDemoPlugin:
    store: str  # the demo store it connects to; two plugins of one store are two connections to it
    name: str
    enabled_days_ago: float
    disconnected: bool = False  # its app was removed from the store: Import Orders off, its token refused


TWICE_PLUGINS = [
    TwiceDemoPlugin("market", "Demo Marketplace – Market stall", IMPORT_ENABLED_DAYS_AGO),
    # The same store connected again (say, with another platform account): both import its orders.
    TwiceDemoPlugin("market", "Demo Marketplace – Market stall (reconnected)", 10),
    # A plugin whose app was removed from the store; it was then added again and synced its history.
    TwiceDemoPlugin("fair", "Demo Marketplace – Craft fair (disconnected)", 60, disconnected=True),
    TwiceDemoPlugin("fair", "Demo Marketplace – Craft fair", 3),
]
TWICE_STORE_NAMES = {"market": "Market stall", "fair": "Craft fair"}
# The plugin a merchant checks each store's orders with: the one that imports now.
TWICE_PLUGIN_OF_STORE = {"market": TWICE_PLUGINS[0].name, "fair": TWICE_PLUGINS[3].name}

TWICE_ORDERS = [
    DemoOrder(
        "market",
        "7001",
        "came in through both Market stall plugins: the store is connected twice",
        1,
        email="ines@example.com",
    ),
    DemoOrder(
        "fair",
        "8001",
        "imported by the disconnected Craft fair plugin, then again by the Sync historical orders of "
        "the Craft fair plugin added again",
        3,
        days_ago=50,
        skus=("TEE-CAT-L",),
        email="oskar@example.com",
    ),
    DemoOrder(
        "fair",
        "8002",
        "created by hand when it had not imported; Sync historical orders brought it in as well",
        4,
        days_ago=70,
        skus=("POSTER-A3-CAT",),
        email="noor@example.com",
    ),
    DemoOrder(
        "fair",
        "8003",
        "re-created on the platform as #8004 a day later (same buyer, same items): two platform orders",
        5,
        days_ago=4,
        skus=("SOCKS-PAWS", "MUG-WHITE-001"),
        email="mei@example.com",
    ),
    DemoOrder(
        "fair",
        "8004",
        "re-creates #8003 on the platform: each of the two platform orders imported once",
        5,
        days_ago=3,
        skus=("SOCKS-PAWS", "MUG-WHITE-001"),
        email="mei@example.com",
    ),
]
# Created by hand in Commerce Kitty (the order wizard) this many days ago, before any plugin imported it.
TWICE_BY_HAND = {"8002": 20}
# Orders the disconnected plugin imported while it was connected; the rest are placed after it was removed.
TWICE_BEFORE_REMOVAL = {"8001", "8002"}
TWICE_REMOVED_DAYS_AGO = 10


def demo_store_handles() -> list[str]:
    """Every demo store the account's plugins connect to (before a preview sandbox's prefix)."""
    return list(dict.fromkeys([p.store for p in PLUGINS] + [p.store for p in TWICE_PLUGINS]))


def _sandbox_order(store: SandboxStore, order: DemoOrder, now) -> SandboxOrder:
    return SandboxOrder(
        store=store,
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


def _twice_stage(merchant: Merchant, channels: dict[str, Channel], *, store_handle, now) -> None:
    """Stage each way an order comes in twice, by the same steps a merchant takes.

    The Market stall store is connected through two plugins that both import.
    The Craft fair store had a plugin that imported #8001 and was then
    disconnected; #8002, too old for it, was created by hand; a plugin added
    again ran Sync historical orders, which brought #8001 and #8002 in once
    more, and the platform's #8003 and #8004 (one purchase entered twice).
    """
    stores = {
        handle: SandboxStore.objects.create(handle=store_handle(handle), name=TWICE_STORE_NAMES[handle])
        for handle in TWICE_STORE_NAMES
    }
    orders = {order.number: order for order in TWICE_ORDERS}
    SandboxOrder.objects.bulk_create(
        _sandbox_order(stores[o.store], o, now)
        for o in TWICE_ORDERS
        if o.store == "market" or o.number in TWICE_BEFORE_REMOVAL
    )
    plugins = {}
    for spec in TWICE_PLUGINS:
        store = stores[spec.store]
        plugin = Plugin.objects.create(
            merchant=merchant,
            platform=SandboxClient.key,
            name=spec.name,
            import_orders=True,
            import_orders_enabled_at=now - timedelta(days=spec.enabled_days_ago),
            credentials={"store": store.handle, "access_token": store.access_token},
            created_at=now - timedelta(days=spec.enabled_days_ago),
        )
        plugin.channels.set([channels["web"]])
        plugins[spec.name] = plugin

    market = [plugins[p.name] for p in TWICE_PLUGINS if p.store == "market"]
    for plugin in market:
        plugin_sync(plugin=plugin, mode=SyncRun.Mode.SCHEDULED)

    old, new = (plugins[p.name] for p in TWICE_PLUGINS if p.store == "fair")
    plugin_sync(plugin=old, mode=SyncRun.Mode.SCHEDULED)
    # As it happened: the old plugin imported its orders back then, and its app was later removed.
    for row in Order.objects.filter(plugin=old):
        row.imported_at = row.placed_at + timedelta(hours=1)
        row.save(update_fields=["imported_at"])
    removed = now - timedelta(days=TWICE_REMOVED_DAYS_AGO)
    old.sync_runs.update(started_at=removed - timedelta(days=1), finished_at=removed - timedelta(days=1))
    old.import_orders = False
    old.save(update_fields=["import_orders"])
    Plugin.objects.filter(pk=old.pk).update(
        last_synced_at=removed - timedelta(days=1),
        authorization_status=Plugin.Authorization.REVOKED,
        authorization_error="The app was removed from the store.",
    )
    stores["fair"].rotate_token()  # the old plugin's token is refused from now on
    Plugin.objects.filter(pk=new.pk).update(
        credentials={"store": stores["fair"].handle, "access_token": stores["fair"].access_token}
    )
    new.refresh_from_db()

    for number, days_ago in TWICE_BY_HAND.items():
        _order_by_hand(
            merchant, channels["web"], orders[number], created=now - timedelta(days=days_ago), now=now
        )
    SandboxOrder.objects.bulk_create(
        _sandbox_order(stores[o.store], o, now)
        for o in TWICE_ORDERS
        if o.store == "fair" and o.number not in TWICE_BEFORE_REMOVAL
    )
    # "Sync historical orders" on the plugin added again, from well before the oldest order.
    plugin_sync(plugin=new, backfill_since=now - timedelta(days=90))


def _order_by_hand(merchant: Merchant, channel: Channel, order: DemoOrder, *, created, now) -> Order:
    """The order as the merchant typed it into the order wizard: the platform's number, no plugin."""
    customer, _ = Customer.objects.get_or_create(
        merchant=merchant,
        email=order.email,
        defaults={"first_name": "Demo", "last_name": f"Buyer {order.number}", "created_at": created},
    )
    row = Order.objects.create(
        merchant=merchant,
        plugin=None,
        channel=channel,
        customer=customer,
        source_order_id="",
        number=order.number,
        placed_at=now - timedelta(days=order.days_ago),
        imported_at=created,
        currency="USD",
        total=Decimal("24.00") * len(order.skus),
    )
    products = dict(Product.objects.filter(merchant=merchant).values_list("code", "id"))
    OrderLine.objects.bulk_create(
        OrderLine(order=row, product_id=products[sku], sku=sku, quantity=1, title=dict(CATALOG)[sku])
        for sku in order.skus
    )
    return row


# A second, smaller account the demo merchant belongs to as staff, so the
# account switcher can be tried: its plugin has Import Orders off, and only
# its owner could turn it on.
SECOND_DEMO_MERCHANT = "Purrfect Prints"
SECOND_DEMO_PLUGIN = DemoPlugin("prints", "Demo Marketplace – Print shop", ("web",), import_orders=False)
SECOND_DEMO_ORDER = DemoOrder(
    "prints", "6001", "Import Orders is off; only the owner can turn it on", 1, skus=("POSTER-A3-CAT",)
)


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
    _sandbox_order(store, SECOND_DEMO_ORDER, timezone.now()).save()
    return merchant
