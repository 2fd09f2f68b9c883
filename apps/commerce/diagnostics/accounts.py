"""Who may check what: Commerce Kitty accounts as the checks framework sees them, plugins as subjects."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import OuterRef, Subquery

from apps.checks.base import AccountAccess
from apps.checks.registry import set_account_directory

from ..models import Membership, Merchant, Plugin

# --- Who may check what ---------------------------------------------------------


class CommerceAccounts:
    """The checks framework's view of Commerce Kitty accounts: plugins are the subjects."""

    def memberships_for(self, user) -> list[AccountAccess]:
        if not getattr(user, "is_authenticated", False):
            return []
        # The oldest membership first: the account a user works in until they choose another.
        rows = (
            Membership.objects.filter(user=user)
            .order_by("pk")
            .values_list("merchant_id", "role", "merchant__name")
        )
        return [_check_membership(*row) for row in rows]

    def membership_for(self, user, merchant_id: int | None = None) -> AccountAccess | None:
        if not getattr(user, "is_authenticated", False):
            return None
        rows = Membership.objects.filter(user=user)
        if merchant_id is not None:
            rows = rows.filter(merchant_id=merchant_id)
        row = rows.order_by("pk").values_list("merchant_id", "role", "merchant__name").first()
        return _check_membership(*row) if row is not None else None

    def subject_choices(self, merchant_id: int) -> list[tuple[int, str]]:
        return list(Plugin.objects.filter(merchant_id=merchant_id).order_by("name").values_list("pk", "name"))

    def subject_label(self, merchant_id: int, subject_id: int) -> str | None:
        return (
            Plugin.objects.filter(merchant_id=merchant_id, pk=subject_id)
            .values_list("name", flat=True)
            .first()
        )

    def merchant_name_expression(self, merchant_id_field: str = "merchant_id"):
        """The merchant's name for a row that stores only its id, as a query expression (admin lists)."""
        return Subquery(Merchant.objects.filter(pk=OuterRef(merchant_id_field)).values("name")[:1])

    def merchant_ids_named(self, text: str) -> list[int]:
        return list(Merchant.objects.filter(name__icontains=text.strip()).values_list("pk", flat=True)[:500])

    def preview_account(self, editor, *, rebuild: bool = False) -> int:
        """The sandbox account ``editor``'s previews check, built the first time (or again, on ``rebuild``)."""
        from ..demo import preview_sandbox_build

        with transaction.atomic():
            # One build at a time per editor: two preview tabs opened together share one sandbox.
            get_user_model().objects.select_for_update().filter(pk=editor.pk).values_list("pk").first()
            merchant_id = Merchant.objects.filter(preview_editor=editor).values_list("pk", flat=True).first()
            if merchant_id is None or rebuild:
                merchant_id = preview_sandbox_build(editor=editor).pk
        return merchant_id

    def preview_examples(self) -> list[tuple[str, str, str]]:
        """(order number, plugin, what is wrong with it) for each cause the sandbox reproduces."""
        from ..demo import ORDERS, PLUGINS, TWICE_ORDERS, TWICE_PLUGIN_OF_STORE

        plugins = {p.store: p.name for p in PLUGINS}
        return [(o.number, plugins[o.store], o.what_is_wrong) for o in ORDERS] + [
            (o.number, TWICE_PLUGIN_OF_STORE[o.store], f"in Commerce Kitty twice: {o.what_is_wrong}")
            for o in TWICE_ORDERS
        ]


def _check_membership(merchant_id: int, role: str, merchant_name: str) -> AccountAccess:
    return AccountAccess(
        merchant_id=merchant_id,
        is_owner=role == Membership.Role.OWNER,
        role=role,
        merchant_name=merchant_name,
    )


set_account_directory(CommerceAccounts())
