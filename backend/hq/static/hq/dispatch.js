/* Dispatch form: once the filter or task changes, the dry run shown no longer describes
   what "Dispatch" would do, so the confirm button waits for a new preview. */
(function () {
  "use strict";
  var form = document.getElementById("dispatch-form");
  var confirm = document.getElementById("confirm");
  if (!form || !confirm) { return; }
  form.addEventListener("input", function () {
    confirm.disabled = true;
    confirm.textContent = confirm.getAttribute("data-stale") || "Preview again to dispatch";
  });
})();

/* Dispatch page: cancelling withdraws tasks from reps' phones, so it asks once more. */
(function () {
  "use strict";
  var form = document.getElementById("cancel-form");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
