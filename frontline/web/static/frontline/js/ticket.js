/* The ticket page: keyboard shortcuts (r reply, n note, e solve), the reply/note tabs,
 * canned response insertion, dialogs, the running timer's clock, and focus
 * after htmx swaps the sidebar. Everything here is an enhancement: without JavaScript the
 * page is plain forms (the tabs and dialog openers stay hidden, [data-js-only]).
 * Uses the shortcut registry of shortcuts.js (window.Frontline.shortcuts). */
(function () {
  "use strict";

  var page = document.getElementById("ticket-page");
  if (!page) return;
  var text = document.getElementById("reply-text");
  var visibility = document.getElementById("reply-visibility");
  var card = document.querySelector("[data-composer]");

  Array.prototype.forEach.call(document.querySelectorAll("[data-js-only]"), function (el) {
    el.hidden = false;
  });

  /* ---------- public reply / internal note ---------- */
  function hasOption(value) {
    return visibility && Array.prototype.some.call(visibility.options, function (o) { return o.value === value; });
  }

  function syncMode() {
    if (!visibility) return;
    var mode = visibility.value;
    if (card) card.classList.toggle("is-note", mode === "internal");
    Array.prototype.forEach.call(document.querySelectorAll("[data-visibility-tab]"), function (tab) {
      var on = tab.getAttribute("data-visibility-tab") === mode;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-note-only]"), function (el) { el.hidden = mode !== "internal"; });
    Array.prototype.forEach.call(document.querySelectorAll("[data-public-only]"), function (el) { el.hidden = mode !== "public"; });
    syncChannel();
  }

  /* ---------- reply channel: its rules, WhatsApp templates, the SMS segment counter ---------- */
  var channelInput = document.querySelector("[data-reply-channel]");

  function syncChannel() {
    var channel = channelInput ? channelInput.value : "";
    var isPublic = !visibility || visibility.value === "public";
    Array.prototype.forEach.call(document.querySelectorAll("[data-channel-only]"), function (el) {
      el.removeAttribute("data-channel-hidden");  /* the no-script default; the select rules now */
      el.hidden = !isPublic || el.getAttribute("data-channel-only") !== channel;
    });
    syncTemplate();
  }

  function syncTemplate() {
    var select = document.querySelector("[data-template-select]");
    var chosen = select && !select.closest("[hidden]") ? select.value : "";
    Array.prototype.forEach.call(document.querySelectorAll("[data-template-fields]"), function (el) {
      el.hidden = el.getAttribute("data-template-fields") !== chosen;
    });
    if (text) {
      text.required = !chosen;
      text.disabled = !!chosen;
    }
  }

  /* GSM 03.38: the basic set costs one unit, the extension set two; anything else needs
   * UCS-2 (70 characters a part, 67 when split; astral characters count twice). */
  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENDED = "^{}\\[~]|€\f";
  function smsSegments(value) {
    var gsm = true, units = 0, chars = Array.from(value);
    chars.forEach(function (c) {
      if (GSM_BASIC.indexOf(c) >= 0) units += 1;
      else if (GSM_EXTENDED.indexOf(c) >= 0) units += 2;
      else gsm = false;
    });
    if (!gsm) units = chars.reduce(function (n, c) { return n + (c.codePointAt(0) > 0xffff ? 2 : 1); }, 0);
    var single = gsm ? 160 : 70, part = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
    return { encoding: gsm ? "GSM-7" : "UCS-2", units: units, segments: segments };
  }
  function syncCounter() {
    var counter = document.querySelector("[data-sms-counter]");
    if (!counter || !text) return;
    var info = smsSegments(text.value);
    counter.textContent = info.units + (info.encoding === "GSM-7" ? " characters" : " characters (Unicode)") +
      " · " + info.segments + " SMS part" + (info.segments === 1 ? "" : "s");
  }
  if (channelInput) channelInput.addEventListener("change", syncChannel);
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-template-select]")) syncTemplate();
  });
  if (text) text.addEventListener("input", syncCounter);
  syncCounter();

  function setMode(mode, focus) {
    if (!visibility || !hasOption(mode)) return false;
    visibility.value = mode;
    visibility.dispatchEvent(new Event("change", { bubbles: true }));
    if (focus && text) text.focus();
    return true;
  }

  if (visibility) visibility.addEventListener("change", syncMode);
  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("[data-visibility-tab]");
    if (tab) setMode(tab.getAttribute("data-visibility-tab"), true);
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest("[data-visibility-tab]");
    if (!tab || (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) return;
    var tabs = Array.prototype.slice.call(tab.parentNode.querySelectorAll("[data-visibility-tab]"));
    var next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
    setMode(next.getAttribute("data-visibility-tab"), false);
    next.focus();
    event.preventDefault();
  });
  syncMode();

  /* ---------- shortcuts ---------- */
  var shortcuts = window.Frontline && window.Frontline.shortcuts;
  if (shortcuts && text) {
    if (hasOption("public")) {
      shortcuts.register("r", "Reply to the customer", function () { setMode("public", true); }, { group: "Ticket" });
    }
    shortcuts.register("n", "Write an internal note", function () { setMode("internal", true); }, { group: "Ticket" });
  }
  var status = document.getElementById("f-status");
  if (shortcuts && status) {
    shortcuts.register("e", "Solve the ticket", function () {
      var canSolve = Array.prototype.some.call(status.options, function (o) { return o.value === "solved"; });
      if (!canSolve) { window.alert("This ticket cannot be solved from its current status."); return; }
      if (!window.confirm("Solve this ticket?")) return;
      status.value = "solved";
      status.form.requestSubmit();
    }, { group: "Ticket" });
  }

  /* ---------- canned responses ---------- */
  function insertAtCursor(field, value) {
    var start = field.selectionStart, end = field.selectionEnd, before = field.value.slice(0, start);
    var gap = before && !/\n\s*$/.test(before) ? "\n" : "";
    field.value = before + gap + value + field.value.slice(end);
    var caret = (before + gap + value).length;
    field.focus();
    field.setSelectionRange(caret, caret);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  var cannedInput = document.getElementById("canned-search");
  var cannedStatus = document.getElementById("canned-status");
  function insertCanned(event) {
    if (!cannedInput || !text) return;
    event.preventDefault();
    var wanted = cannedInput.value.trim();
    if (!wanted) { cannedInput.focus(); return; }
    var option = Array.prototype.find.call(document.querySelectorAll("#canned-options option"), function (o) {
      return o.value === wanted;
    });
    var query = option ? "id=" + encodeURIComponent(option.getAttribute("data-id")) : "q=" + encodeURIComponent(wanted);
    fetch(cannedInput.getAttribute("data-canned-url") + "?" + query, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (body) {
        if (body === null) { if (cannedStatus) cannedStatus.textContent = "No canned response matches “" + wanted + "”."; cannedInput.setAttribute("aria-invalid", "true"); return; }
        cannedInput.removeAttribute("aria-invalid");
        cannedInput.value = "";
        insertAtCursor(text, body);
        if (cannedStatus) cannedStatus.textContent = "Inserted.";
      });
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-canned-insert]")) insertCanned(event);
  });
  if (cannedInput) cannedInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter") insertCanned(event);
  });

  /* ---------- dialogs: open, close, give focus back ---------- */
  var opener = null;
  document.addEventListener("click", function (event) {
    var open = event.target.closest && event.target.closest("[data-dialog-open]");
    if (open) {
      var dialog = document.getElementById(open.getAttribute("data-dialog-open"));
      if (dialog && !dialog.open) { opener = open; dialog.showModal(); }
      return;
    }
    var close = event.target.closest && event.target.closest("[data-dialog-close]");
    if (close) close.closest("dialog").close();
  });
  Array.prototype.forEach.call(document.querySelectorAll("dialog.modal"), function (dialog) {
    dialog.addEventListener("close", function () {
      if (opener && document.contains(opener)) opener.focus();
      opener = null;
    });
  });

  /* ---------- the running timer ---------- */
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-timer-since]"), function (el) {
      var since = Date.parse(el.getAttribute("data-timer-since"));
      if (isNaN(since)) return;
      var s = Math.max(0, Math.floor((Date.now() - since) / 1000));
      el.textContent = Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
    });
  }
  tick();
  setInterval(tick, 1000);

  /* ---------- focus after htmx swaps the sidebar ---------- */
  var lastCard = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var from = event.target.closest && event.target.closest(".card[id]");
    lastCard = from ? from.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!lastCard) return;
    var heading = document.querySelector("#" + lastCard + " .card-title");
    lastCard = null;
    if (heading && (!document.activeElement || document.activeElement === document.body)) {
      heading.focus({ preventScroll: true });
    }
    tick();
  });
})();
