// The console's only script: the theme toggle and the live (Server-Sent Events) parts of the
// batch and inbox pages. Pages work without it; it only adds live updates.
"use strict";

function effectiveTheme() {
  var set = document.documentElement.getAttribute("data-theme");
  if (set) return set;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function setupThemeToggle() {
  var button = document.getElementById("theme-toggle");
  if (!button) return;
  function show() { button.setAttribute("aria-pressed", String(effectiveTheme() === "dark")); }
  button.addEventListener("click", function () {
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try { localStorage.setItem("cb-theme", next); } catch (e) { /* storage off */ }
    show();
  });
  show();
}

function setupBatchCounts() {
  var section = document.getElementById("live-counts");
  if (!section || !window.EventSource) return;
  var source = new EventSource(section.getAttribute("data-live"));
  var state = document.getElementById("live-state");
  var first = null;
  source.addEventListener("counts", function (event) {
    var status = JSON.parse(event.data);
    if (first === null) first = event.data;
    else if (event.data !== first) {
      var stale = document.getElementById("recipients-stale");
      if (stale) stale.hidden = false;
    }
    var counts = status.counts;
    counts.done = counts.total - counts.queued;
    section.querySelectorAll("[data-count]").forEach(function (el) {
      el.textContent = String(counts[el.getAttribute("data-count")]);
    });
    section.querySelectorAll("[data-seg]").forEach(function (el) {
      var share = counts.total ? 100 * counts[el.getAttribute("data-seg")] / counts.total : 0;
      el.style.width = share + "%";
    });
    var badge = document.getElementById("batch-status");
    if (badge && badge.textContent !== status.status) {
      badge.textContent = status.status;
      badge.className = "badge status-" + status.status.toLowerCase();
      var cancel = document.getElementById("cancel-form");
      if (cancel && status.status !== "SCHEDULED") cancel.remove();
    }
    section.setAttribute("data-updated-at", String(Date.now()));
  });
  source.addEventListener("end", function () {
    source.close();
    if (state) state.textContent = "Final: this batch has finished changing.";
  });
}

function bubble(message) {
  var li = document.createElement("li");
  li.className = "bubble fresh";
  var p = document.createElement("p");
  p.textContent = message.text;
  var meta = document.createElement("span");
  meta.className = "meta";
  var chip = document.createElement("span");
  chip.className = "chip";
  chip.textContent = message.channel;
  var time = document.createElement("time");
  time.textContent = message.received;
  meta.append(chip, " ", time);
  if (message.batch_id) {
    var link = document.createElement("a");
    link.href = "/console/batches/" + encodeURIComponent(message.batch_id);
    link.textContent = "batch";
    meta.append(" · ", link);
  }
  li.append(p, meta);
  return li;
}

function conversationEntry(list, message, search) {
  var found = null;
  list.querySelectorAll("li[data-identity]").forEach(function (li) {
    if (li.getAttribute("data-identity") === message.identity) found = li;
  });
  if (!found) {
    var empty = list.querySelector("li.empty");
    if (empty) empty.remove();
    found = document.createElement("li");
    found.setAttribute("data-identity", message.identity);
    var a = document.createElement("a");
    a.href = "?" + new URLSearchParams({q: search, open: message.identity}).toString();
    a.innerHTML = '<span class="who"><code></code> <span class="chip"></span></span>' +
      '<span class="preview"></span><span class="small muted"><time></time> · ' +
      '<span class="n">0</span> msg</span>';
    a.querySelector("code").textContent = message.identity;
    a.querySelector(".chip").textContent = message.channel;
    found.append(a);
  }
  found.querySelector(".preview").textContent = message.text;
  found.querySelector("time").textContent = message.received;
  var n = found.querySelector(".n");
  n.textContent = String(Number(n.textContent) + 1);
  list.prepend(found);
}

function setupInbox() {
  var inbox = document.getElementById("inbox");
  if (!inbox || !window.EventSource) return;
  var thread = document.getElementById("thread");
  var list = document.getElementById("conversations");
  var opened = inbox.getAttribute("data-open");
  var source = new EventSource(inbox.getAttribute("data-live"));
  source.addEventListener("message", function (event) {
    var message = JSON.parse(event.data);
    if (!opened) {
      opened = message.identity;
      inbox.setAttribute("data-open", opened);
      document.getElementById("phone-title").textContent = opened;
    }
    if (message.identity === opened) thread.prepend(bubble(message));
    conversationEntry(list, message, inbox.getAttribute("data-search"));
    inbox.setAttribute("data-updated-at", String(Date.now()));
  });
}

setupThemeToggle();
setupBatchCounts();
setupInbox();
