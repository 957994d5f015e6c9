// Local web chat: a channel like WhatsApp and Telegram (bot/channels/webchat.py).
// Messages go to the inbox; the page polls the outbox, so a counsellor who takes over
// from the dashboard shows up here too.
(function () {
  "use strict";
  const rasaUrl = `${location.protocol}//${location.hostname}:${window.BOUSLA_RASA_PORT}`;
  const channelUrl = `${rasaUrl}/webhooks/webchat`;
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const FAST_POLL_MS = 300;   // just after a message: replies come within a second
  const SLOW_POLL_MS = 2000;  // otherwise: a counsellor may write at any time
  let sender = localStorage.getItem("bousla-webchat-sender");
  let lastSeen = 0;
  let fastUntil = 0;
  let typing = null;
  let pollTimer = null;

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
  }
  if (!sender) newSender();

  function addBubble(text, who) {
    const item = document.createElement("li");
    item.className = `bubble bubble--${who}`;
    item.setAttribute("dir", "auto");
    item.textContent = text;  // never innerHTML: messages are shown as typed
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    return item;
  }

  function addButtons(buttons) {
    const row = document.createElement("li");
    row.className = "buttons";
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
    list.appendChild(row);
    list.scrollTop = list.scrollHeight;
  }

  function clearTyping() {
    if (typing) typing.remove();
    typing = null;
  }

  async function poll() {
    clearTimeout(pollTimer);
    try {
      const response = await fetch(
        `${channelUrl}/messages?sender=${encodeURIComponent(sender)}&after=${lastSeen}`
      );
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const { messages } = await response.json();
      if (messages.length) clearTyping();
      for (const message of messages) {
        lastSeen = Math.max(lastSeen, message.id);
        const who = message.author === "counsellor" ? "bot bubble--counsellor" : "bot";
        if (message.text) addBubble(message.text, who);
        if (message.buttons && message.buttons.length) addButtons(message.buttons);
      }
    } catch (error) {
      clearTyping();
      addBubble("Bousla ne répond pas (le serveur Rasa est-il démarré ?) — " + error.message, "error");
      fastUntil = 0;
    }
    pollTimer = setTimeout(poll, Date.now() < fastUntil ? FAST_POLL_MS : SLOW_POLL_MS);
  }

  async function send(message, shown) {
    addBubble(shown ?? message, "user");
    clearTyping();
    typing = addBubble("…", "bot bubble--typing");
    try {
      const response = await fetch(`${channelUrl}/webhook`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, message, message_id: "m" + randomId() }),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      fastUntil = Date.now() + 8000;
      poll();
    } catch (error) {
      clearTyping();
      addBubble("Bousla ne répond pas (le serveur Rasa est-il démarré ?) — " + error.message, "error");
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
    list.innerHTML = "";
    input.focus();
  });
  input.focus();
  poll();
})();
