// Bousla dashboard: live updates (server-sent events), waiting times, canned replies.
// Pages work without this script; it only saves reloading.
"use strict";

(function () {
  const body = document.body;
  const page = body.dataset.page;

  // ---- waiting times: "3 min", "2 h 05", refreshed every 20 s
  function formatDuration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min";
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " h " + String(minutes % 60).padStart(2, "0");
    return Math.floor(hours / 24) + " j";
  }
  function refreshWaits(root) {
    (root || document).querySelectorAll("time.since").forEach(function (el) {
      const since = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(since)) el.textContent = formatDuration((Date.now() - since) / 1000);
    });
  }
  refreshWaits();
  setInterval(refreshWaits, 20000);

  // ---- canned replies fill the reply box (the counsellor can still edit)
  document.addEventListener("click", function (event) {
    const button = event.target.closest(".canned-use");
    if (!button) return;
    const box = document.getElementById("reply-text");
    if (!box) return;
    box.value = button.dataset.text;
    box.focus();
  });

  // ---- fragments: server-rendered HTML (escaped by Jinja), swapped in place
  const pending = new Map();
  function reload(id) {
    const target = document.getElementById(id);
    if (!target || !target.dataset.fragment) return;
    if (pending.has(id)) { pending.set(id, true); return; }  // one fetch at a time, then again
    pending.set(id, false);
    const stickToBottom = id === "transcript" && target.scrollTop + target.clientHeight >= target.scrollHeight - 40;
    fetch(target.dataset.fragment, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          target.innerHTML = html;
          refreshWaits(target);
          if (stickToBottom) target.scrollTop = target.scrollHeight;
          if (id === "queue") updateCount(target);
          target.dispatchEvent(new CustomEvent("bousla:updated", { bubbles: true }));
        }
      })
      .finally(function () {
        const again = pending.get(id);
        pending.delete(id);
        if (again) reload(id);
      });
  }

  function updateCount(root) {
    const list = root.querySelector("[data-count]");
    const count = document.getElementById("queue-count");
    if (list && count) count.textContent = list.dataset.count !== "0" ? "(" + list.dataset.count + ")" : "";
  }

  let baseTitle = document.title;
  function notifyNew(count) {
    if (document.hasFocus()) return;
    document.title = "(" + count + ") " + baseTitle;
  }
  window.addEventListener("focus", function () { document.title = baseTitle; });

  const transcript = document.getElementById("transcript");
  if (transcript) transcript.scrollTop = transcript.scrollHeight;

  if (!window.EventSource || page === "login" || !document.querySelector("meta[name=csrf-token]").content) return;
  const status = document.getElementById("live-status");
  const source = new EventSource("/events");
  source.addEventListener("ready", function () { if (status) status.hidden = true; body.dataset.live = "on"; });
  source.onerror = function () { if (status) status.hidden = false; body.dataset.live = "off"; };
  source.addEventListener("queue", function (event) {
    const data = JSON.parse(event.data);
    const count = document.getElementById("queue-count");
    if (count) count.textContent = data.open ? "(" + data.open + ")" : "";
    if (page === "queue") reload("queue");
    if (page === "handoff" && data.handoff_ids.indexOf(Number(body.dataset.handoffId)) >= 0) {
      reload("handoff-head");
    }
    if (data.new.length) notifyNew(data.new.length);
  });
  source.addEventListener("message", function (event) {
    const data = JSON.parse(event.data);
    if (page === "handoff" && data.person_id === body.dataset.personId) reload("transcript");
    if (page === "queue") reload("queue");
  });
  source.addEventListener("note", function (event) {
    const data = JSON.parse(event.data);
    if (page === "handoff" && data.handoff_id === Number(body.dataset.handoffId)) reload("notes");
  });
  window.addEventListener("beforeunload", function () { source.close(); });
})();
