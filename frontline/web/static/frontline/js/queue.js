/* The ticket queue: select-all, the selection count in the bulk bar, selected-row styling.
 * Event delegation on the document, so it keeps working after htmx swaps #queue. */
(function () {
  "use strict";

  function update() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-row-check]"));
    var checked = boxes.filter(function (b) { return b.checked; });
    boxes.forEach(function (b) {
      var row = b.closest("[data-ticket-row]");
      if (row) row.classList.toggle("is-selected", b.checked);
    });
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked.length === boxes.length;
      all.indeterminate = checked.length > 0 && checked.length < boxes.length;
    }
    var count = document.querySelector("[data-bulk-count]");
    if (count) count.textContent = checked.length ? checked.length + " selected" : "Select tickets";
    var apply = document.querySelector("[data-bulk-apply]");
    if (apply) apply.disabled = checked.length === 0;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll("[data-row-check]").forEach(function (b) { b.checked = target.checked; });
    }
    if (target.matches("[data-select-all], [data-row-check]")) update();
  });
  document.addEventListener("htmx:afterSettle", update);
  document.addEventListener("DOMContentLoaded", update);
  update();
})();
