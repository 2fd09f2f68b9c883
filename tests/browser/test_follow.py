"""Watching a missing order and reading the notifications inbox, in Chromium, with a real worker."""

import pytest
from playwright.sync_api import expect

from apps.commerce.importing import plugin_sync
from apps.commerce.models import Notification, Plugin
from apps.follow.services import watches_follow
from tests.browser.conftest import sign_in
from tests.browser.test_page import check_every_step, choose
from tests.conftest import wait_for
from tests.factories import fresh_order

pytestmark = [pytest.mark.browser]


def test_watch_an_order_then_read_that_it_arrived_in_the_inbox(demo_site, page):
    main = Plugin.objects.get(name__contains="Main store")
    fresh_order(main)
    sign_in(page, demo_site.url)
    choose(page, "Main store", "1010")
    check_every_step(page)

    page.get_by_role("button", name="Tell me when it arrives").click()
    expect(page.locator("#watch-box")).to_contain_text("Watching for order #1010")
    # The pressed button is gone: focus is on what the new box says, not back at the top of the page.
    expect(page.locator("#watch-box").get_by_text("Watching for order #1010")).to_be_focused()

    plugin_sync(plugin=main, mode="scheduled")  # the next sync brings it in
    watches_follow()
    # The sync also queues a look at the watches on the worker: if that look holds the watch, this one
    # skips it, and the worker's "Order arrived" lands a moment later. Count once it is there.
    arrived = Notification.objects.filter(merchant=main.merchant, kind=Notification.Kind.ORDER_ARRIVED)
    wait_for(arrived.exists, timeout=20)
    unread = Notification.objects.filter(merchant=main.merchant, read=False).count()
    page.reload()
    bell = page.get_by_role("link", name=f"Notifications, {unread} unread")
    expect(bell).to_be_visible()
    bell.click()

    item = page.locator(".inbox__item").first
    expect(item).to_contain_text("Order arrived")
    expect(item).to_contain_text("Order #1010 arrived in Commerce Kitty")
    item.get_by_role("button", name="Mark as read").click()
    expect(page.locator(".inbox")).to_contain_text(
        f"{unread - 1} unread." if unread > 1 else "Nothing unread."
    )
    expect(page.locator(".inbox__item").first.locator(".inbox__new")).to_have_count(0)


def test_stopping_a_watch_keeps_the_focus_in_the_watch_box(demo_site, page):
    fresh_order(Plugin.objects.get(name__contains="Main store"))  # placed, not yet synced: worth watching
    sign_in(page, demo_site.url)
    choose(page, "Main store", "1010")
    check_every_step(page)
    box = page.locator("#watch-box")

    box.get_by_role("button", name="Tell me when it arrives").click()
    box.get_by_role("button", name="Stop watching").click()

    expect(box.get_by_text("Stopped watching for order #1010.")).to_be_focused()
    page.keyboard.press("Tab")
    expect(box.get_by_role("button", name="Tell me when it arrives")).to_be_focused()
