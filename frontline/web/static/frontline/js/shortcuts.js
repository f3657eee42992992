/* Frontline keyboard shortcuts: one small registry for every page. No dependencies.
 *
 *   Frontline.shortcuts.register(key, description, handler, {group: "Ticket"})
 *     key: a KeyboardEvent.key value ("j", "Enter", "/", "?"); one handler per key, the last
 *     registration wins; returns a function that unregisters it.
 *   Frontline.shortcuts.unregister(key)
 *   Frontline.shortcuts.list()      -> [{key, description, group}]
 *   Frontline.shortcuts.showHelp()  -> opens the "?" dialog (#shortcut-help in base.html)
 *
 * Keys are ignored while typing (inputs, textareas, selects, contenteditable) and when Ctrl,
 * Meta or Alt is held; Escape leaves a text field. A page adds its own keys from
 * {% block scripts %}, e.g. the ticket page: r (reply), n (note), e (solve).
 */
(function () {
  "use strict";

  var registry = new Map();

  function register(key, description, handler, options) {
    var entry = { key: key, description: description, handler: handler,
                  group: (options && options.group) || "General" };
    registry.set(key, entry);
    return function () { if (registry.get(key) === entry) registry.delete(key); };
  }

  function unregister(key) { registry.delete(key); }

  function list() {
    return Array.from(registry.values()).map(function (e) {
      return { key: e.key, description: e.description, group: e.group };
    });
  }

  function isTyping(target) {
    if (!target || !target.closest) return false;
    if (target.isContentEditable) return true;
    var field = target.closest("input, textarea, select");
    if (!field) return false;
    var type = (field.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) === -1;
  }

  function keyLabel(key) {
    return { Enter: "Enter", " ": "Space", Escape: "Esc" }[key] || key;
  }

  function showHelp() {
    var dialog = document.getElementById("shortcut-help");
    if (!dialog) return;
    var target = dialog.querySelector("[data-shortcut-list]");
    target.textContent = "";
    var groups = {};
    registry.forEach(function (e) { (groups[e.group] = groups[e.group] || []).push(e); });
    Object.keys(groups).forEach(function (group) {
      var heading = document.createElement("dt");
      heading.className = "nav-heading";
      heading.style.gridColumn = "1 / -1";
      heading.style.textAlign = "left";
      heading.textContent = group;
      target.appendChild(heading);
      groups[group].forEach(function (e) {
        var dt = document.createElement("dt");
        var kbd = document.createElement("kbd");
        kbd.textContent = keyLabel(e.key);
        dt.appendChild(kbd);
        var dd = document.createElement("dd");
        dd.textContent = e.description;
        target.appendChild(dt);
        target.appendChild(dd);
      });
    });
    if (!dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) {
      if (event.key === "Escape" && event.target.blur) event.target.blur();
      return;
    }
    if (document.querySelector("dialog[open]")) return; // the dialog handles its own keys
    // Enter and Space keep their meaning on links, buttons and checkboxes
    if ((event.key === "Enter" || event.key === " ") &&
        event.target.closest && event.target.closest("a, button, summary, input, label")) return;
    var entry = registry.get(event.key);
    if (!entry) return;
    event.preventDefault();
    entry.handler(event);
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcut-help]")) showHelp();
  });

  register("?", "Show keyboard shortcuts", showHelp);
  register("/", "Search tickets", function () {
    var search = document.getElementById("global-search");
    if (search) { search.focus(); search.select(); }
  });

  /* --- the ticket queue: j/k move a visible cursor, Enter/o open, x selects ------------- */
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue] [data-ticket-row]"));
  }

  function current(all) {
    for (var i = 0; i < all.length; i++) if (all[i].classList.contains("is-cursor")) return i;
    return -1;
  }

  function moveTo(all, index) {
    if (!all.length) return;
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row) { row.classList.remove("is-cursor"); });
    var row = all[index];
    row.classList.add("is-cursor");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function openCurrent() {
    var all = rows();
    var row = all[current(all)];
    var link = row && row.querySelector("[data-row-link]");
    if (link) window.location.assign(link.href);
  }

  if (document.querySelector("[data-queue]")) {
    register("j", "Next ticket", function () { var all = rows(); moveTo(all, current(all) + 1); }, { group: "Ticket list" });
    register("k", "Previous ticket", function () { var all = rows(); var i = current(all); moveTo(all, i < 0 ? 0 : i - 1); }, { group: "Ticket list" });
    register("Enter", "Open the ticket", openCurrent, { group: "Ticket list" });
    register("o", "Open the ticket", openCurrent, { group: "Ticket list" });
    register("x", "Select or unselect the ticket", function () {
      var all = rows();
      var row = all[current(all)];
      var box = row && row.querySelector("[data-row-check]");
      if (box) box.click();
    }, { group: "Ticket list" });
  }

  window.Frontline = window.Frontline || {};
  window.Frontline.shortcuts = {
    register: register, unregister: unregister, list: list, showHelp: showHelp, isTyping: isTyping
  };
})();
