// Local web chat: sends each message to Rasa's REST channel and shows the replies.
(function () {
  "use strict";
  const rasaUrl = `${location.protocol}//${location.hostname}:${window.BOUSLA_RASA_PORT}`;
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  let sender = localStorage.getItem("bousla-webchat-sender");

  function newSender() {
    sender = "webchat-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    localStorage.setItem("bousla-webchat-sender", sender);
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

  async function send(message, shown) {
    addBubble(shown ?? message, "user");
    const typing = addBubble("…", "bot bubble--typing");
    try {
      const response = await fetch(`${rasaUrl}/webhooks/rest/webhook`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, message }),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const replies = await response.json();
      typing.remove();
      for (const reply of replies) {
        if (reply.text) addBubble(reply.text, "bot");
        if (reply.image) addBubble(reply.image, "bot");
        if (reply.buttons && reply.buttons.length) addButtons(reply.buttons);
      }
    } catch (error) {
      typing.remove();
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
})();
