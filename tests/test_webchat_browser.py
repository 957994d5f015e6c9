"""The web chat page in Chromium (issue 16, item 9): the person's own messages survive a
reload, each author keeps their side whatever the script, Arabic choices read right to
left, and the typing dots stop when the bot stays silent.

The page is the dashboard's `/chat`; it talks to the web chat channel on a real Sanic
server (Bousla's channel, inbox, outbox and worker) with a scripted bot in place of Rasa.
"""

from __future__ import annotations

import pytest

from bot.channels.webchat import WebchatInput
from bot.settings import get_settings
from tests.browser_support import ARTIFACTS, CHROMIUM, LiveServer, requires_chromium
from tests.channels_support import ScriptedBot, start_channel_server
from tests.conftest import free_port

pytestmark = [requires_chromium]


async def side_of(page, locator) -> str:
    """'left' or 'right': which edge of the message list the element touches."""
    box = await locator.bounding_box()
    frame = await page.locator("#messages").bounding_box()
    left_gap = box["x"] - frame["x"]
    right_gap = frame["x"] + frame["width"] - (box["x"] + box["width"])
    return "left" if left_gap < right_gap else "right"


@pytest.fixture
async def chat_browser(database_url, monkeypatch):
    """Chromium and the address of the dashboard's `/chat`, whose page talks to a web chat
    channel server with the scripted bot."""
    from playwright.async_api import async_playwright

    from bot.dashboard.app import create_app

    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    server = await start_channel_server(
        [WebchatInput.from_credentials(None)], ScriptedBot(), cors=True
    )
    monkeypatch.setenv("RASA_PORT", str(server.port))
    get_settings.cache_clear()
    try:
        with LiveServer(create_app(poll_seconds=0.2), free_port()) as dashboard:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(CHROMIUM),
                    args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
                )
                yield browser, f"{dashboard.url}/chat"
                await browser.close()
    finally:
        await server.stop()
        get_settings.cache_clear()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_web_chat_in_a_browser(chat_browser):
    browser, chat_url = chat_browser
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = await browser.new_page(viewport={"width": 420, "height": 820})
    await page.goto(chat_url)

    async def say(text: str) -> None:
        await page.fill("#text", text)
        await page.press("#text", "Enter")

    # French menu, then the same in Arabic: buttons in reading order.
    await say("menu")
    await page.wait_for_selector("text=Je peux t'aider à :")
    await say("القائمة")
    await page.wait_for_selector("text=نقدر نعاونك باش:")
    rows = page.locator("li.buttons")
    await rows.nth(1).wait_for()
    assert await rows.nth(0).get_attribute("dir") == "ltr"
    assert await rows.nth(1).get_attribute("dir") == "rtl"
    french = [await b.bounding_box() for b in await rows.nth(0).locator("button").all()]
    arabic = [await b.bounding_box() for b in await rows.nth(1).locator("button").all()]
    assert french[0]["x"] < french[1]["x"]  # first choice on the left
    assert arabic[0]["x"] > arabic[1]["x"]  # first choice on the right

    # Each author on their side, whatever the script.
    await say("السلام عليكم، بغيت نخدم")
    await page.wait_for_selector("text=echo:السلام عليكم، بغيت نخدم")
    users = page.locator("li.bubble--user")
    bots = page.locator("li.bubble--bot:not(.bubble--typing)")
    for bubble in await users.all():
        assert await side_of(page, bubble) == "right", await bubble.inner_text()
    for bubble in await bots.all():
        assert await side_of(page, bubble) == "left", await bubble.inner_text()

    # A tapped button shows its title (and keeps it after a reload).
    await rows.nth(0).locator("button").first.click()
    await page.wait_for_selector("text=echo:/seek_job")

    # The bot stays silent: the typing dots go away on their own.
    await say("silence")
    await page.wait_for_selector("li.bubble--typing", state="detached", timeout=10_000)
    await page.screenshot(path=str(ARTIFACTS / "webchat-01-before-reload.png"))
    before = await page.locator("li.bubble").all_inner_texts()

    await page.reload()
    await page.wait_for_selector("text=silence")
    await page.wait_for_timeout(500)  # one more poll: nothing new, nothing twice
    after = await page.locator("li.bubble").all_inner_texts()
    await page.screenshot(path=str(ARTIFACTS / "webchat-02-after-reload.png"))
    assert after == before
    mine = await page.locator("li.bubble--user").all_inner_texts()
    assert mine == [
        "menu",
        "القائمة",
        "السلام عليكم، بغيت نخدم",
        "💼 Trouver un travail",
        "silence",
    ]
    assert await page.locator("li.bubble--typing").count() == 0
    for bubble in await page.locator("li.bubble--user").all():
        assert await side_of(page, bubble) == "right"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_slow_polls_never_show_a_message_twice(chat_browser):
    """On a slow connection a poll is still under way when the person sends the next
    message (which polls at once): both polls saw the same replies and the page showed each
    of them twice (seen in CI under load). Here every poll takes 0.6 s."""
    import asyncio

    browser, chat_url = chat_browser
    page = await browser.new_page()

    async def slowly(route) -> None:
        await asyncio.sleep(0.6)
        await route.continue_()

    await page.route("**/webhooks/webchat/messages*", slowly)
    await page.goto(chat_url)
    sent = ["salam", "bghit nkhdem", "ok", "merci"]
    for text in sent:
        await page.fill("#text", text)
        await page.press("#text", "Enter")
        await page.wait_for_timeout(250)  # mid-poll, most of the time
    await page.wait_for_selector("text=echo:merci")
    await page.wait_for_timeout(2500)  # the polls under way finish
    bot = await page.locator("li.bubble--bot:not(.bubble--typing)").all_inner_texts()
    assert bot == [f"echo:{text}" for text in sent]
    assert await page.locator("li.bubble--user").all_inner_texts() == sent
