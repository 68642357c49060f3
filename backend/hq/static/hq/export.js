/* An export job's page: poll its status until it is done or failed. The words come
   translated: the status label from the server, "of" from the page. */
(function () {
  "use strict";
  var job = document.getElementById("job");
  if (!job) { return; }
  var of = job.dataset.of || "of";

  function show(state) {
    document.getElementById("job-status").textContent = state.status_label || state.status;
    var bar = document.getElementById("job-progress");
    if (state.progress != null) { bar.value = state.progress; }
    document.getElementById("job-rows").textContent =
      state.rows_done + (state.rows_total != null ? " " + of + " " + state.rows_total : "");
    job.dataset.status = state.status;
    if (state.status === "done") {
      document.getElementById("job-download").classList.remove("hidden");
    }
  }

  function poll() {
    if (job.dataset.status === "done" || job.dataset.status === "failed") { return; }
    fetch(job.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        show(state);
        if (state.status === "failed") { window.location.reload(); return; }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
