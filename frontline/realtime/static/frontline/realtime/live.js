/* Live workspace: one websocket per tab to /ws/agent/.
 * - ticket page (#ticket-page[data-ticket-id]): new messages appear, delivery/read states update,
 *   who else is viewing or typing shows in #collision, and a warning appears when someone else
 *   writes while you have a draft; chat tickets send read receipts to the visitor.
 * - list pages ([data-live-list]): the list refreshes itself (debounced) when tickets change.
 * - everywhere: notifications (#notif-count, toasts) and the presence toggle (#presence-select).
 * Pushes carry ids only; content is fetched through the normal permission-checked pages. */
(function () {
  "use strict";
  var page = document.getElementById("ticket-page");
  var ticketId = page ? Number(page.getAttribute("data-ticket-id")) : null;
  var me = page ? Number(page.getAttribute("data-user-id")) : null;
  var isChat = page && page.getAttribute("data-chat") === "1";
  var list = document.querySelector("[data-live-list]");
  var viewers = {};          // user id -> {name, state, visibility, until}
  var customerTypingUntil = 0;
  var ws = null, retry = 0, lastTyping = 0, seenSent = 0;

  function send(frame) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/ws/agent/");
    ws.onopen = function () {
      retry = 0;
      document.documentElement.setAttribute("data-live", "on");
      if (ticketId) send({ type: "watch", ticket: ticketId });
    };
    ws.onmessage = function (e) { var d; try { d = JSON.parse(e.data); } catch (x) { return; } receive(d); };
    ws.onclose = function (e) {
      document.documentElement.setAttribute("data-live", "off");
      if (e.code === 4401) return;
      setTimeout(connect, Math.min(15000, 500 * Math.pow(2, retry++)));
    };
  }

  /* ---------- ticket page ---------- */
  var timeline = document.getElementById("timeline");
  var composer = document.getElementById("composer");
  var text = document.getElementById("reply-text");
  var visibility = document.getElementById("reply-visibility");
  var seenInput = document.getElementById("seen-message-id");
  var collision = document.getElementById("collision");
  var warned = false;

  function renderCollision() {
    if (!collision) return;
    var now = Date.now(), parts = [];
    Object.keys(viewers).forEach(function (id) {
      var v = viewers[id];
      if (v.until < now) { delete viewers[id]; return; }
      parts.push(v.state === "typing" ? v.name + " is typing " + (v.visibility === "internal" ? "a note" : "a reply") + "…" : v.name + " is viewing");
    });
    if (customerTypingUntil > now) parts.push("The customer is typing…");
    var warning = collision.querySelector(".collision-warning");
    collision.textContent = parts.join(" · ");
    collision.hidden = !parts.length && !warning;
    if (warning) collision.appendChild(warning);
  }
  setInterval(renderCollision, 2000);

  function appendMessage(messageId, fromOther) {
    if (!timeline || document.getElementById("message-" + messageId)) return;
    fetch("/tickets/" + ticketId + "/messages/" + messageId + "/", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || document.getElementById("message-" + messageId)) return;
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var node = tpl.content.firstElementChild;
        if (!node) return;
        timeline.appendChild(node);
        node.classList.add("msg-new");
        var author = Number(node.getAttribute("data-author-user") || 0);
        var isPublic = node.getAttribute("data-visibility") === "public";
        if (author !== me && isPublic && text && text.value.trim() && !warned) {
          warned = true;
          var w = document.createElement("div");
          w.className = "flash error collision-warning";
          w.setAttribute("role", "alert");
          w.textContent = "New message on this ticket while you were writing — read it before sending.";
          collision.appendChild(w); collision.hidden = false;
        }
        if (seenInput && !(text && text.value.trim())) seenInput.value = Math.max(Number(seenInput.value || 0), messageId);
        markSeen();
      });
  }
  function markSeen() {
    if (!isChat || document.visibilityState === "hidden" || !timeline) return;
    var top = 0;
    Array.prototype.forEach.call(timeline.querySelectorAll("[data-direction=inbound]"), function (n) {
      top = Math.max(top, Number(n.getAttribute("data-message-id")));
    });
    if (top > seenSent && send({ type: "seen", ticket: ticketId, up_to: top })) seenSent = top;
  }
  document.addEventListener("visibilitychange", markSeen);

  if (text) {
    text.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping > 2500) {
        lastTyping = now;
        send({ type: "typing", ticket: ticketId, visibility: visibility ? visibility.value : "public" });
      }
    });
  }
  if (composer) composer.addEventListener("submit", function () { warned = false; });
  if (ticketId) setInterval(function () { send({ type: "here", ticket: ticketId }); }, 10000);

  /* ---------- list pages ---------- */
  var refreshTimer = null;
  function refreshList() {
    if (!list || refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      // Not while someone is typing a filter or holds a bulk selection: try again shortly.
      var busy = (list.contains(document.activeElement) && document.activeElement.matches("input,select,textarea")) ||
        list.querySelector("input[type=checkbox]:checked");
      if (busy) { refreshList(); return; }
      fetch(location.href, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("[data-live-list]");
          if (fresh) { list.innerHTML = fresh.innerHTML; document.dispatchEvent(new CustomEvent("frontline:list-refreshed")); }
          var nav = doc.getElementById("view-nav"), myNav = document.getElementById("view-nav");
          if (nav && myNav) myNav.innerHTML = nav.innerHTML;  // the counts per view
        });
    }, 800);
  }

  /* ---------- notifications and presence ---------- */
  var count = document.getElementById("notif-count");
  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box) { box = document.createElement("div"); box.id = "toasts"; box.className = "toast-stack"; box.setAttribute("aria-live", "polite"); document.body.appendChild(box); }
    var t = document.createElement("div"); t.className = "flash flash-info"; t.setAttribute("role", "status"); t.textContent = message;
    box.appendChild(t); setTimeout(function () { t.remove(); }, 8000);
  }
  var presence = document.getElementById("presence-select");
  if (presence) presence.addEventListener("change", function () { send({ type: "presence", state: presence.value }); });

  function receive(d) {
    switch (d.type) {
      case "watching":
        if (page) page.setAttribute("data-watching", "1");
        markSeen();
        break;
      case "message":
        if (d.ticket === ticketId) appendMessage(d.message);
        break;
      case "delivery":
        if (d.ticket === ticketId) {
          var span = document.querySelector("[data-delivery-for='" + d.message + "']");
          if (span) span.textContent = d.state.charAt(0).toUpperCase() + d.state.slice(1).replace("_", " ");
        }
        break;
      case "viewer":
        if (d.ticket !== ticketId || d.user.id === me) break;
        if (d.state === "left") delete viewers[d.user.id];
        else {
          var known = viewers[d.user.id];
          viewers[d.user.id] = { name: d.user.name, state: d.state, visibility: d.visibility, until: Date.now() + (d.state === "typing" ? 6000 : 25000) };
          if (!known) send({ type: "here", ticket: ticketId }); // introduce ourselves to the newcomer
        }
        renderCollision();
        break;
      case "ticket":
        // Someone else changed this ticket (status, assignee, links...): offer a reload rather
        // than swapping the form from under an agent who may be editing it.
        if (d.ticket === ticketId && d.actor !== "user:" + me && collision && !document.getElementById("ticket-changed")) {
          var note = document.createElement("div");
          note.id = "ticket-changed"; note.className = "flash flash-info"; note.setAttribute("role", "status");
          note.appendChild(document.createTextNode("This ticket was changed by someone else. "));
          var a = document.createElement("a"); a.href = location.pathname; a.textContent = "Reload to see the changes";
          note.appendChild(a);
          collision.appendChild(note); collision.hidden = false;
        }
        break;
      case "typing":
        if (d.ticket === ticketId && d.from === "visitor") { customerTypingUntil = d.state ? Date.now() + 6000 : 0; renderCollision(); }
        break;
      case "inbox":
        refreshList();
        break;
      case "notification":
        if (count) { count.textContent = String(Number(count.textContent || 0) + 1); count.hidden = false; }
        toast(d.text || "New notification");
        break;
      case "presence":
        if (presence && d.user === Number(presence.getAttribute("data-user-id"))) {
          presence.value = d.state;
          var dot = document.querySelector(".presence-dot");
          if (dot) dot.className = "presence-dot presence-" + d.state;
        }
        break;
    }
  }
  connect();
  markSeen();
})();
