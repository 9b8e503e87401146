/* Follow an export job: poll its small JSON status until done, then show the download link. */
(function () {
  "use strict";
  var box = document.getElementById("export-job");
  if (!box) { return; }
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
      document.getElementById("export-progress").value = s.percent;
      document.getElementById("export-rows").textContent = s.rows_done + " / " + s.rows_total;
      box.querySelector(".status").textContent = box.getAttribute("data-label-" + s.status) || s.status;
      if (s.status === "done") { document.getElementById("export-download").hidden = false; return; }
      if (s.status !== "failed") { window.setTimeout(poll, 1000); }
    }).catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
