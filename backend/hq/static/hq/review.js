/* Review pages: keyboard shortcuts for a queue of hundreds, and photos at full size.
   No inline script (a Content-Security-Policy without 'unsafe-inline' is coming).

   Review queue: j / k move to the next / previous row, o or Enter opens its survey,
   a approves it. Survey page: a approve, i has issues, r reject, j / k next / previous
   survey in the queue (elements with data-key="..."). Keys typed into a field, or with
   a modifier held, are left alone. */
(function () {
  "use strict";

  function typing(event) {
    var target = event.target;
    var tag = target && target.tagName;
    return event.ctrlKey || event.metaKey || event.altKey ||
      tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" ||
      (target && target.isContentEditable);
  }

  /* --- the queue: a current row ------------------------------------------------ */
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-survey]"));
  var current = -1;

  function select(index) {
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) {
      rows[current].classList.remove("current");
      rows[current].removeAttribute("aria-selected");
    }
    current = index;
    rows[current].classList.add("current");
    rows[current].setAttribute("aria-selected", "true");
    rows[current].scrollIntoView({block: "nearest"});
    var link = rows[current].querySelector("a.open");
    if (link) { link.focus({preventScroll: true}); }
  }

  function queueKey(key) {
    if (!rows.length) { return false; }
    if (key === "j") { select(current + 1); return true; }
    if (key === "k") { select(current < 0 ? 0 : current - 1); return true; }
    if (current < 0) { return false; }
    var row = rows[current];
    if (key === "o" || key === "Enter") {
      var link = row.querySelector("a.open");
      if (link) { window.location.href = link.href; return true; }
    }
    if (key === "a") {
      var approve = row.querySelector('button[value="approved"]');
      if (approve) { approve.click(); return true; }
    }
    return false;
  }

  rows.forEach(function (row, index) {
    row.addEventListener("focusin", function () {
      if (current !== index) { select(index); }
    });
  });

  /* --- the survey page: buttons and links with data-key ------------------------ */
  function pageKey(key) {
    var target = document.querySelector('[data-key="' + key + '"]');
    if (!target) { return false; }
    target.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (typing(event)) { return; }
    var key = event.key;
    var done = rows.length ? queueKey(key) : pageKey(key);
    if (done) { event.preventDefault(); }
  });

  /* --- photos: full size in a dialog, the link still works without script ------ */
  var viewer = document.getElementById("photo-viewer");
  if (viewer && typeof viewer.showModal === "function") {
    var image = viewer.querySelector("img");
    Array.prototype.forEach.call(document.querySelectorAll("a.photo"), function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        image.src = link.getAttribute("data-full");
        viewer.showModal();
      });
    });
    viewer.addEventListener("click", function (event) {
      if (event.target === viewer || event.target === image) { viewer.close(); }
    });
  }
})();
