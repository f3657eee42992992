/* Every workspace page: a form with data-confirm="question" asks before it is sent (merges,
 * undoing a merge, splitting a message). Without JavaScript the form is sent as it is. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
