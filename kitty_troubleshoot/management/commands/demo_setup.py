"""Everything the demo needs on top of a migrated database; safe to run again."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.commerce.demo import (
    ORDERS,
    SECOND_DEMO_ORDER,
    TWICE_ARTICLE,
    TWICE_ORDERS,
    TWICE_PLUGIN_OF_STORE,
    demo_account_seed,
    demo_second_account_seed,
)
from apps.help.services import article_import, support_editors_group_ensure
from apps.help.translations import article_translation_import, help_center_translation_import
from apps.support.services import support_agents_group_ensure

SEED_ARTICLE = Path(settings.BASE_DIR) / "content" / "order-did-not-import.txt"
# The demo's other articles, imported after the seed article (each with its .checks beside it).
DEMO_ARTICLES = [Path(settings.BASE_DIR) / "content" / "order-imported-twice.txt"]
# Each translated language's texts: content/<language>/help-center.txt (the help center's title and
# introduction) and content/<language>/<article>.txt, each the translation of content/<article>.txt.
TRANSLATED_LANGUAGES = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

# (username, password, role); the demo prints them, so they are not secrets.
DEMO_USERS = [
    ("merchant", "kitty-merchant", "merchant"),
    ("editor", "kitty-editor", "support editor"),
    ("agent", "kitty-agent", "support agent"),
    ("admin", "kitty-admin", "admin"),
]


def demo_users_ensure() -> dict:
    """Create (or reset) the demo's merchant, support editor, support agent and admin."""
    User = get_user_model()
    users = {}
    for username, password, role in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.email = f"{username}@demo.commercekitty.example"
        # Django admin is for agents and admins; editors work in Wagtail's admin, which needs no staff flag.
        user.is_staff = role in ("support agent", "admin")
        user.is_superuser = role == "admin"
        user.set_password(password)
        user.save()
        users[role] = user
    users["support editor"].groups.add(support_editors_group_ensure())
    users["support agent"].groups.add(support_agents_group_ensure())
    return users


def demo_translations_import(articles: list, *, user) -> list:
    """The help center and each article in every other language, as wagtail-localize translations."""
    translated = []
    for language in TRANSLATED_LANGUAGES:
        folder = Path(settings.BASE_DIR) / "content" / language
        help_center_translation_import(
            data=(folder / "help-center.txt").read_bytes(), language=language, user=user
        )
        for article in articles:
            result = article_translation_import(
                source=article,
                data=(folder / f"{article.slug}.txt").read_bytes(),
                language=language,
                user=user,
            )
            translated.append(result.page)
    return translated


class Command(BaseCommand):
    help = "Import the seed article and create the demo users (and account data)."

    def add_arguments(self, parser):
        # Where the links in e-mails point (SITE_URL), unless told otherwise.
        parser.add_argument("--base-url", default=settings.WAGTAILADMIN_BASE_URL)

    def handle(self, *args, base_url: str, **options):
        base_url = base_url.rstrip("/")
        with transaction.atomic():
            users = demo_users_ensure()
            result, *others = [
                article_import(
                    data=path.read_bytes(),
                    slug=path.stem,
                    checks_text=path.with_suffix(".checks").read_text(),
                    user=users["support editor"],  # the article's history names who wrote it
                )
                for path in (SEED_ARTICLE, *DEMO_ARTICLES)
            ]
            translations = []
            if settings.DEMO_TRANSLATIONS:
                translations = demo_translations_import(
                    [result.page, *(other.page for other in others)], user=users["support editor"]
                )
                support_editors_group_ensure()  # the translated help centers too
            merchant = demo_account_seed(owner=users["merchant"])
            # After the main account: a user works in their oldest account until they switch.
            second = demo_second_account_seed(member=users["merchant"])
        article_url = base_url + result.page.url
        out = self.stdout.write
        out("")
        out(self.style.SUCCESS("Commerce Kitty Help Center demo is ready."))
        out(f"  Help center     {base_url}/help/")
        out(f"  Article         {article_url}")
        for other in others:
            out(f"                  {base_url + other.page.url}")
        for page in translations:
            out(f"                  {base_url + page.url}")
        out(f"  Sign in         {base_url}/accounts/login/")
        out(f"  Wagtail admin   {base_url}/cms/          (support editors, admins)")
        out(f"  Django admin    {base_url}/django-admin/ (support agents, admins)")
        # No token is made here: a token is a secret its person makes and sees once, not a line in a setup's log.
        out(
            f"  API tokens      {base_url}/account/tokens/, or ./manage.py api_token create merchant --scope diagnose"
        )
        out("")
        out("  Logins (username / password):")
        for username, password, role in DEMO_USERS:
            out(f"    {role:<15} {username} / {password}")
        out("")
        out(f"  Demo account “{merchant.name}” (owned by merchant): orders to try")
        for order in ORDERS:
            step = f"step {order.step}" if order.step else "      "
            out(f"    #{order.number}  {step}  {order.what_is_wrong}")
        out(f"  For “{TWICE_ARTICLE}”, orders in Commerce Kitty twice:")
        for order in TWICE_ORDERS:
            out(
                f"    #{order.number}  step {order.step}  {TWICE_PLUGIN_OF_STORE[order.store]}: {order.what_is_wrong}"
            )
        out(f"  Second account “{second.name}” (merchant is staff; switch in the header)")
        out(
            f"    #{SECOND_DEMO_ORDER.number}  step {SECOND_DEMO_ORDER.step}  {SECOND_DEMO_ORDER.what_is_wrong}"
        )
        out("")
