// Local web chat: a channel like WhatsApp and Telegram (bot/channels/webchat.py).
// Messages go to the inbox; the page polls the conversation (the person's own messages
// and everything sent to them), so a reload shows it again and a counsellor who takes
// over from the dashboard shows up here too.
(function () {
  "use strict";
  const rasaUrl = `${location.protocol}//${location.hostname}:${window.BOUSLA_RASA_PORT}`;
  const channelUrl = `${rasaUrl}/webhooks/webchat`;
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const FAST_POLL_MS = 300;   // just after a message: replies come within a second
  const SLOW_POLL_MS = 2000;  // otherwise: a counsellor may write at any time
  // Arabic letters: a row of buttons whose titles are Arabic reads right to left.
  const ARABIC = /[\u0600-\u06FF\u0750-\u077F]/g;
  const LATIN = /[A-Za-z\u00C0-\u024F]/g;
  let sender = localStorage.getItem("bousla-webchat-sender");
  let lastSeen = 0;      // the last message sent to the person (outbox id)
  let lastMine = 0;      // the person's last message (inbox id)
  let shownMine = new Set();  // the person's messages already on the page (browser ids)
  let fastUntil = 0;
  let waiting = false;   // the person's last message is not answered yet
  let typing = null;
  let pollTimer = null;
  let polling = false;   // one poll at a time: two at once would show a reply twice
  let pollAgain = false; // a poll asked for while one was under way

  // The id is the conversation's only secret: 128 bits from the browser's cryptographic
  // source (a pseudo-random generator could be predicted).
  function randomId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function newSender() {
    sender = "webchat-" + randomId();
    localStorage.setItem("bousla-webchat-sender", sender);
    lastSeen = 0;
    lastMine = 0;
    shownMine = new Set();
  }
  if (!sender) newSender();

  function isArabic(text) {
    const arabic = (text.match(ARABIC) || []).length;
    const latin = (text.match(LATIN) || []).length;
    return arabic > 0 && arabic >= latin;
  }

  // Bubbles stay on their author's side whatever the script: the side is set with
  // physical margins (chat.css), the text inside follows its own direction (dir=auto).
  function addBubble(text, who) {
    const item = document.createElement("li");
    item.className = `bubble bubble--${who}`;
    item.setAttribute("dir", "auto");
    item.textContent = text;  // never innerHTML: messages are shown as typed
    list.insertBefore(item, typing);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  function addButtons(buttons) {
    const row = document.createElement("li");
    row.className = "buttons";
    // In Arabic the first choice is on the right, as the text reads.
    row.setAttribute("dir", isArabic(buttons.map((b) => b.title).join(" ")) ? "rtl" : "ltr");
    for (const button of buttons) {
      const element = document.createElement("button");
      element.type = "button";
      element.setAttribute("dir", "auto");
      element.textContent = button.title;
      element.addEventListener("click", () => {
        row.querySelectorAll("button").forEach((b) => (b.disabled = true));
        send(button.payload, button.title);
      });
      row.appendChild(element);
    }
    list.insertBefore(row, typing);
    list.scrollTop = list.scrollHeight;
  }

  function showTyping() {
    if (typing) return;
    typing = document.createElement("li");
    typing.className = "bubble bubble--bot bubble--typing";
    typing.setAttribute("aria-label", "Bousla écrit…");
    typing.textContent = "…";
    list.appendChild(typing);
    list.scrollTop = list.scrollHeight;
  }

  function clearTyping() {
    if (typing) typing.remove();
    typing = null;
  }

  function showError(error) {
    clearTyping();
    waiting = false;
    addBubble("Bousla ne répond pas (le serveur Rasa est-il démarré ?) — " + error.message, "error");
  }

  async function poll() {
    clearTimeout(pollTimer);
    if (polling) {
      pollAgain = true;
      return;
    }
    polling = true;
    try {
      const query = `sender=${encodeURIComponent(sender)}&after=${lastSeen}&after_mine=${lastMine}`;
      const response = await fetch(`${channelUrl}/messages?${query}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const { messages, pending } = await response.json();
      for (const message of messages) {
        if (message.author === "person") {
          if (message.id <= lastMine) continue;
          lastMine = message.id;
          if (message.message_id && shownMine.has(message.message_id)) continue;
          if (message.message_id) shownMine.add(message.message_id);
          if (message.text) addBubble(message.text, "user");
          continue;
        }
        if (message.id <= lastSeen) continue;  // already on the page
        lastSeen = message.id;
        const who = message.author === "counsellor" ? "bot bubble--counsellor" : "bot";
        if (message.text) addBubble(message.text, who);
        if (message.buttons && message.buttons.length) addButtons(message.buttons);
      }
      // The typing dots stay while the last message is being answered, and stop when it
      // has been, replies or not (a counsellor holding the conversation answers later).
      waiting = Boolean(pending);
      if (waiting) showTyping();
      else clearTyping();
    } catch (error) {
      showError(error);
      fastUntil = 0;
    }
    polling = false;
    if (pollAgain) {
      pollAgain = false;
      poll();
      return;
    }
    const fast = waiting || Date.now() < fastUntil;
    pollTimer = setTimeout(poll, fast ? FAST_POLL_MS : SLOW_POLL_MS);
  }

  async function send(message, shown) {
    const messageId = "m" + randomId();
    shownMine.add(messageId);
    addBubble(shown ?? message, "user");
    showTyping();
    waiting = true;
    try {
      const body = { sender, message, message_id: messageId };
      if (shown !== undefined) body.title = shown;  // a tapped button: its title is kept
      const response = await fetch(`${channelUrl}/webhook`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      fastUntil = Date.now() + 8000;
      poll();
    } catch (error) {
      showError(error);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  });
  document.getElementById("restart").addEventListener("click", () => {
    newSender();
    clearTyping();
    list.innerHTML = "";
    input.focus();
  });
  input.focus();
  poll();
})();
