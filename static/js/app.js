// Site-wide behaviour, kept out of the HTML (no inline script).
(function () {
  "use strict";
  // Times are shown in the person's own time zone: the server reads it from this cookie.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var cookie = "tz=" + encodeURIComponent(zone);
    if (zone && document.cookie.split("; ").indexOf(cookie) === -1) {
      document.cookie = cookie + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (error) { /* an old browser: times stay in the server's zone */ }
  // Cards of running jobs poll for their state; a hidden tab has nobody to show it to.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.hidden && event.detail.elt.matches("[data-poll]")) event.preventDefault();
  });

  // The generate form shows the parts that matter for the chosen endpoint. Without script
  // every part stays visible, and the server ignores what the endpoint does not use. A part
  // only some models take (data-for-models) is also disabled while hidden, so a file chosen
  // before the model changed is not sent to a model that would refuse it.
  function showPartsFor(select) {
    var form = select.form;
    var model = form.querySelector("select[name=model]");
    form.querySelectorAll("[data-for-endpoints]").forEach(function (part) {
      var hidden = part.dataset.forEndpoints.split(" ").indexOf(select.value) === -1;
      if (part.dataset.forModels !== undefined && model) {
        hidden = hidden || part.dataset.forModels.split(" ").indexOf(model.value) === -1;
        part.querySelectorAll("input, select").forEach(function (field) { field.disabled = hidden; });
      }
      part.hidden = hidden;
    });
  }
  function setUp(root) {
    root.querySelectorAll("select[data-endpoint-choice]").forEach(showPartsFor);
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-endpoint-choice]")) showPartsFor(target);
    else if (target.matches("select[name=model]") && target.form) {
      var choice = target.form.querySelector("select[data-endpoint-choice]");
      if (choice) showPartsFor(choice);
    }
  });
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (event) { setUp(event.detail.elt); });

  // Uploads show how far they have got, then that the files are being checked.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload-progress]");
    if (!form || !event.detail.lengthComputable || !event.detail.total) return;
    var box = form.querySelector(".upload-progress");
    var percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    box.hidden = false;
    box.querySelector("progress").value = percent;
    box.querySelector("small").textContent = percent < 100
      ? "Uploading: " + percent + " %"
      : "Uploaded; checking the files…";
  });
})();
