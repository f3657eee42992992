/* Frontline chat widget. Dependency-free; embed with
 *   <script src="https://support.example.com/chat/widget.js" data-site-key="KEY" async></script>
 * Protocol: docs/channels/chat.md. Messages are never lost or doubled: each has a client id,
 * stays in a local outbox until the server acknowledges it, and is resent after a reconnect;
 * the server answers a resend with the id it already stored. Messages show in server order. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.FrontlineChat) return;
  var siteKey = script.getAttribute("data-site-key");
  if (!siteKey) return;
  var base = new URL(script.src, location.href);
  var httpBase = base.origin;
  var wsBase = (base.protocol === "https:" ? "wss://" : "ws://") + base.host;
  var store = "frontline-chat:" + siteKey + ":";

  function load(key, fallback) {
    try { var v = localStorage.getItem(store + key); return v ? JSON.parse(v) : fallback; }
    catch (e) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(store + key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  var state = {
    token: load("token", null),
    outbox: load("outbox", []),      // [{client_id, text}] not yet acknowledged
    messages: {},                    // server id -> message
    config: null, visitor: null, ws: null, connected: false, open: false,
    retry: 0, agentTyping: null, readUpTo: 0, seenUpTo: 0, lastTypingSent: 0
  };

  /* ---------- layout (shadow DOM keeps the host page's CSS out) ---------- */
  var host = el("div", { id: "frontline-chat" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = el("style", { text: [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;display:flex;align-items:center;justify-content:center;",
    "color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);font-size:24px;z-index:2147483000}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #1f6feb;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 24px);height:520px;",
    "max-height:calc(100vh - 110px);background:#fff;color:#1f2328;border-radius:12px;display:flex;",
    "flex-direction:column;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;z-index:2147483000;font-size:14px}",
    ".panel[hidden]{display:none}",
    "header{color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}",
    "header h2{font-size:15px;margin:0;flex:1} header .status{font-size:12px;opacity:.9}",
    "header button{background:transparent;border:0;color:#fff;font-size:18px;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px;background:#f6f8fa}",
    ".msg{max-width:80%;padding:7px 10px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;line-height:1.4}",
    ".msg.visitor{align-self:flex-end;color:#fff;border-bottom-right-radius:4px}",
    ".msg.agent{align-self:flex-start;background:#fff;border:1px solid #d0d7de;border-bottom-left-radius:4px}",
    ".msg .who{display:block;font-size:11px;color:#57606a;margin-bottom:2px}",
    ".msg.pending{opacity:.6} .msg a{color:inherit}",
    ".meta{font-size:11px;color:#57606a;align-self:flex-end}",
    ".note{font-size:12px;color:#57606a;padding:0 12px 4px;min-height:16px}",
    "form.composer{display:flex;gap:6px;padding:8px;border-top:1px solid #d0d7de;align-items:flex-end}",
    "textarea{flex:1;resize:none;height:40px;max-height:120px;padding:8px;border:1px solid #8c959f;border-radius:8px;font-size:14px}",
    "button.send,button.primary{border:0;color:#fff;border-radius:8px;padding:9px 12px;cursor:pointer;font-size:14px}",
    "button.icon{background:#fff;border:1px solid #8c959f;border-radius:8px;padding:7px 8px;cursor:pointer;color:#424a53;display:flex}",
    "button.icon svg{width:20px;height:20px}",
    ".form{padding:14px;display:flex;flex-direction:column;gap:8px;overflow-y:auto}",
    ".form label{font-size:12px;color:#424a53} .form input,.form textarea{width:100%;padding:8px;border:1px solid #8c959f;border-radius:8px;font-size:14px}",
    ".form textarea{height:100px} .error{color:#b42318;font-size:12px}",
    ".tools{display:flex;justify-content:space-between;padding:4px 10px;font-size:12px}",
    ".tools button{background:none;border:0;color:#0b5cad;cursor:pointer;font-size:12px;text-decoration:underline}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}"
  ].join("") });
  var SVG = "http://www.w3.org/2000/svg";
  function svgIcon(d) {  // no emoji: not every system has a colour emoji font
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "24"); svg.setAttribute("height", "24");
    svg.setAttribute("fill", "none"); svg.setAttribute("stroke", "currentColor"); svg.setAttribute("stroke-width", "2");
    svg.setAttribute("stroke-linecap", "round"); svg.setAttribute("stroke-linejoin", "round"); svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(SVG, "path"); path.setAttribute("d", d); svg.appendChild(path);
    return svg;
  }
  var CHAT_ICON = "M21 11.5a8.4 8.4 0 0 1-9 8.4 8.8 8.8 0 0 1-3.8-.9L3 20.5l1.5-4.4A8.3 8.3 0 0 1 3 11.5 8.5 8.5 0 0 1 12 3a8.5 8.5 0 0 1 9 8.5z";
  var CLIP_ICON = "M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5";
  var launcher = el("button", { class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false" }, [svgIcon(CHAT_ICON)]);
  var title = el("h2", { text: "Chat" });
  var statusLine = el("span", { class: "status", text: "" });
  var closeBtn = el("button", { type: "button", "aria-label": "Close chat", text: "×" });
  var header = el("header", {}, [el("div", { style: "flex:1" }, [title, statusLine]), closeBtn]);
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var note = el("div", { class: "note", "aria-live": "polite" });
  var input = el("textarea", { id: "fl-text", "aria-label": "Type your message", placeholder: "Type your message…", maxlength: "10000" });
  var fileInput = el("input", { type: "file", class: "sr", id: "fl-file", "aria-hidden": "true", tabindex: "-1" });
  var attachBtn = el("button", { class: "icon", type: "button", "aria-label": "Attach a file" }, [svgIcon(CLIP_ICON)]);
  var sendBtn = el("button", { class: "send", type: "submit", text: "Send" });
  var composer = el("form", { class: "composer" }, [attachBtn, fileInput, input, sendBtn]);
  var transcriptBtn = el("button", { type: "button", text: "Email me the transcript" });
  var tools = el("div", { class: "tools" }, [el("span", { text: "" }), transcriptBtn]);
  var body = el("div", { style: "display:flex;flex-direction:column;flex:1;min-height:0" }, [log, note, tools, composer]);
  var panel = el("div", { class: "panel", role: "dialog", "aria-label": "Chat with us", hidden: "" }, [header, body]);
  root.appendChild(css); root.appendChild(launcher); root.appendChild(panel);

  function paint() {
    var color = (state.config && state.config.color) || "#0b6bcb";
    launcher.style.background = color; header.style.background = color;
    sendBtn.style.background = color;
    Array.prototype.forEach.call(root.querySelectorAll("button.primary"), function (b) { b.style.background = color; });
    Array.prototype.forEach.call(root.querySelectorAll(".msg.visitor"), function (m) { m.style.background = color; });
    if (state.config) title.textContent = state.config.name;
    statusLine.textContent = !state.config ? "" : !state.config.open ? " · away" : state.connected ? " · online" : " · reconnecting…";
  }

  /* ---------- rendering ---------- */
  function bubble(m, pending) {
    var mine = m.from === "visitor";
    var node = el("div", { class: "msg " + (mine ? "visitor" : "agent") + (pending ? " pending" : ""), "data-id": m.id || "", "data-client-id": m.client_id || "" });
    if (!mine) node.appendChild(el("span", { class: "who", text: m.name || "Support" }));
    if (m.text) node.appendChild(document.createTextNode(m.text));
    (m.attachments || []).forEach(function (a) {
      var link = el("a", { href: httpBase + a.url, target: "_blank", rel: "noopener", text: "File: " + a.name });
      node.appendChild(el("div", {}, [link]));
    });
    if (m.uploading) node.appendChild(el("div", { text: "Uploading " + m.uploading + "…" }));
    return node;
  }
  function render() {
    var ids = Object.keys(state.messages).map(Number).sort(function (a, b) { return a - b; });
    var acked = {};
    log.textContent = "";
    if (state.config && state.config.greeting) log.appendChild(bubble({ from: "agent", name: state.config.name, text: state.config.greeting }));
    ids.forEach(function (id) {
      var m = state.messages[id];
      if (m.client_id) acked[m.client_id] = true;
      log.appendChild(bubble(m, false));
    });
    state.outbox.forEach(function (p) { if (!acked[p.client_id]) log.appendChild(bubble({ from: "visitor", text: p.text, client_id: p.client_id, uploading: p.uploading }, true)); });
    var lastMine = ids.filter(function (id) { return state.messages[id].from === "visitor"; }).pop();
    if (lastMine && state.seenUpTo >= lastMine) log.appendChild(el("div", { class: "meta", text: "Seen" }));
    log.scrollTop = log.scrollHeight;
    paint();
    markRead();
  }
  function setNote() {
    var typing = state.agentTyping && state.agentTyping.until > Date.now();
    note.textContent = typing ? (state.agentTyping.name || "Support") + " is typing…" : (!state.connected && state.open ? "Connecting…" : "");
  }

  /* ---------- connection ---------- */
  function send(frame) {
    if (state.ws && state.connected) { state.ws.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function flush() {
    state.outbox.forEach(function (p) { if (!p.uploading) send({ type: "message", client_id: p.client_id, text: p.text }); });
  }
  function connect() {
    if (state.ws) return;
    var ws = new WebSocket(wsBase + "/ws/chat/?site_key=" + encodeURIComponent(siteKey));
    state.ws = ws;
    ws.onopen = function () { ws.send(JSON.stringify({ type: "hello", token: state.token, page: location.href })); };
    ws.onmessage = function (e) { var data; try { data = JSON.parse(e.data); } catch (x) { return; } receive(data); };
    ws.onclose = function (e) {
      state.ws = null; state.connected = false; paint(); setNote();
      if (e.code === 4403) { note.textContent = "Chat is not available on this site."; return; }
      var delay = Math.min(15000, 500 * Math.pow(2, state.retry++));
      setTimeout(connect, delay);
    };
  }
  function receive(data) {
    switch (data.type) {
      case "welcome":
        state.token = data.token; save("token", data.token);
        state.config = data.config; state.visitor = data.visitor; state.connected = true; state.retry = 0;
        (data.messages || []).forEach(function (m) { state.messages[m.id] = m; });
        chooseScreen(); render(); flush(); break;
      case "ack":
        if (!state.messages[data.id]) state.messages[data.id] = { id: data.id, from: "visitor", client_id: data.client_id, text: textOfPending(data.client_id), attachments: [] };
        state.outbox = state.outbox.filter(function (p) { return p.client_id !== data.client_id; });
        save("outbox", state.outbox);
        render(); break;
      case "message":
        state.messages[data.id] = data;
        if (data.from === "agent") state.agentTyping = null;
        render(); setNote(); break;
      case "typing":
        state.agentTyping = data.state ? { name: data.name, until: Date.now() + 6000 } : null;
        setNote(); setTimeout(setNote, 6100); break;
      case "read":
        state.seenUpTo = Math.max(state.seenUpTo, data.up_to); render(); break;
      case "identified":
        state.visitor = { name: data.name, email: data.email };
        if (state.afterIdentify) { var f = state.afterIdentify; state.afterIdentify = null; f(); }
        chooseScreen(); break;
      case "transcript_sent":
        note.textContent = "Transcript sent to " + data.email + "."; break;
      case "error":
        if (data.code === "rate_limited") { setTimeout(flush, (data.retry_after || 5) * 1000); note.textContent = "Sending shortly…"; }
        else if (data.client_id) {
          state.outbox = state.outbox.filter(function (p) { return p.client_id !== data.client_id; });
          save("outbox", state.outbox); note.textContent = data.message || "Message refused."; render();
        } else { note.textContent = data.message || "Something went wrong."; }
        break;
    }
  }
  function textOfPending(clientId) {
    var found = state.outbox.filter(function (p) { return p.client_id === clientId; })[0];
    return found ? found.text : "";
  }
  function markRead() {
    if (!state.open || document.visibilityState === "hidden") return;
    var top = 0;
    Object.keys(state.messages).forEach(function (id) { if (state.messages[id].from === "agent") top = Math.max(top, Number(id)); });
    if (top > state.readUpTo && send({ type: "read", up_to: top })) state.readUpTo = top;
  }

  /* ---------- screens: chat, pre-chat form, offline form ---------- */
  var formBox = null;
  function field(label, attrs) {
    var id = "fl-" + attrs.name; attrs.id = id;
    var input = attrs.multiline ? el("textarea", attrs) : el("input", attrs);
    return el("div", {}, [el("label", { for: id, text: label }), input]);
  }
  function showForm(nodes) {
    if (formBox) formBox.remove();
    formBox = el("form", { class: "form" }, nodes);
    body.style.display = "none"; panel.appendChild(formBox); paint();
    return formBox;
  }
  function showChat() { if (formBox) { formBox.remove(); formBox = null; } body.style.display = "flex"; }
  function chooseScreen() {
    var c = state.config; if (!c) return;
    var known = state.visitor && (state.visitor.email || (!c.require_email && state.visitor.name));
    var hasHistory = Object.keys(state.messages).length > 0;
    if (!c.open && !hasHistory) return offlineForm();
    if (c.pre_chat_form && !known && !hasHistory) return preChatForm();
    showChat();
  }
  function preChatForm() {
    var err = el("div", { class: "error", role: "alert" });
    var f = showForm([
      el("p", { text: state.config.greeting }),
      field("Name", { name: "name", autocomplete: "name" }),
      field("Email" + (state.config.require_email ? "" : " (optional)"), { name: "email", type: "email", autocomplete: "email" }),
      err, el("button", { class: "primary", type: "submit", text: "Start chat" })
    ]);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var name = f.querySelector("#fl-name").value, email = f.querySelector("#fl-email").value;
      if (state.config.require_email && !email) { err.textContent = "Please enter your email."; return; }
      if (!send({ type: "identify", name: name, email: email })) { err.textContent = "Connecting… try again in a moment."; return; }
    });
  }
  function offlineForm() {
    var err = el("div", { class: "error", role: "alert" });
    var f = showForm([
      el("p", { text: state.config.offline_message }),
      field("Name", { name: "oname", autocomplete: "name" }),
      field("Email", { name: "oemail", type: "email", autocomplete: "email", required: "" }),
      field("Message", { name: "omessage", multiline: "1", required: "" }),
      err, el("button", { class: "primary", type: "submit", text: "Send message" })
    ]);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var payload = { name: f.querySelector("#fl-oname").value, email: f.querySelector("#fl-oemail").value, message: f.querySelector("#fl-omessage").value, page: location.href };
      fetch(httpBase + "/chat/" + encodeURIComponent(siteKey) + "/offline", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
        .then(function (res) {
          if (res.ok) showForm([el("p", { role: "status", text: "Thanks! We'll answer by email at " + payload.email + "." })]);
          else err.textContent = (res.body.error && res.body.error.message) || "Could not send.";
        }).catch(function () { err.textContent = "Could not send; check your connection."; });
    });
  }

  /* ---------- user actions ---------- */
  function submit(e) {
    if (e) e.preventDefault();
    var text = input.value.trim(); if (!text) return;
    var pending = { client_id: uuid(), text: text };
    state.outbox.push(pending); save("outbox", state.outbox);
    input.value = ""; render();
    send({ type: "message", client_id: pending.client_id, text: text });
    send({ type: "typing", state: false });
    state.lastTypingSent = 0;
  }
  composer.addEventListener("submit", submit);
  input.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.shiftKey) submit(e); });
  input.addEventListener("input", function () {
    var now = Date.now();
    if (now - state.lastTypingSent > 2500) { state.lastTypingSent = now; send({ type: "typing", state: true }); }
  });
  attachBtn.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files[0]; if (!file) return;
    fileInput.value = "";
    if (state.config && file.size > state.config.max_upload_bytes) { note.textContent = file.name + " is too large."; return; }
    var pending = { client_id: uuid(), text: "", uploading: file.name };
    state.outbox.push(pending); render();
    var data = new FormData();
    data.append("token", state.token || ""); data.append("client_id", pending.client_id);
    data.append("page", location.href); data.append("file", file);
    fetch(httpBase + "/chat/" + encodeURIComponent(siteKey) + "/upload", { method: "POST", body: data })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        state.outbox = state.outbox.filter(function (p) { return p.client_id !== pending.client_id; });
        if (!res.ok) note.textContent = (res.body.error && res.body.error.message) || "Upload refused.";
        render();
      }).catch(function () {
        state.outbox = state.outbox.filter(function (p) { return p.client_id !== pending.client_id; });
        note.textContent = "Upload failed; check your connection."; render();
      });
  });
  transcriptBtn.addEventListener("click", function () {
    if (state.visitor && state.visitor.email) { send({ type: "transcript" }); return; }
    var err = el("div", { class: "error", role: "alert" });
    var f = showForm([field("Your email", { name: "temail", type: "email", required: "" }), err,
      el("button", { class: "primary", type: "submit", text: "Send transcript" })]);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      state.afterIdentify = function () { send({ type: "transcript" }); showChat(); };
      send({ type: "identify", email: f.querySelector("#fl-temail").value });
    });
  });
  function toggle(open) {
    state.open = open;
    panel.hidden = !open; launcher.setAttribute("aria-expanded", String(open));
    launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    if (open) { connect(); render(); setNote(); setTimeout(function () { input.focus(); }, 0); }
  }
  launcher.addEventListener("click", function () { toggle(!state.open); });
  closeBtn.addEventListener("click", function () { toggle(false); launcher.focus(); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { toggle(false); launcher.focus(); } });
  document.addEventListener("visibilitychange", markRead);
  setInterval(function () { if (state.connected) send({ type: "ping" }); }, 25000);

  function start() {
    document.body.appendChild(host);
    fetch(httpBase + "/chat/" + encodeURIComponent(siteKey) + "/config")
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) { if (c) { state.config = c; paint(); } });
    paint();
    // A returning visitor with a conversation (or unsent messages) reconnects at once.
    if (state.token || state.outbox.length) connect();
  }
  window.FrontlineChat = { open: function () { toggle(true); }, close: function () { toggle(false); }, state: state };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
