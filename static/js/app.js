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

  // Hover-scrubbing: a poster with a sprite strip (ten frames of its video side by side)
  // shows the frame under the pointer. The strip is fetched on the first move over it, and
  // its frame count read from its own size, so strips of any length work. Touch and the
  // keyboard keep the poster: a finger on a card scrolls the page or opens the take.
  function showFrame(scrub, x) {
    var frames = parseInt(scrub.dataset.frames, 10);
    var box = scrub.getBoundingClientRect();
    if (!frames || !box.width) return;
    var at = Math.min(frames - 1, Math.max(0, Math.floor(((x - box.left) / box.width) * frames)));
    scrub.style.backgroundPosition = (frames > 1 ? (100 * at) / (frames - 1) : 0) + "% 0%";
    scrub.classList.add("showing");
  }
  function loadStrip(scrub) {
    if (scrub.dataset.loading) return;
    scrub.dataset.loading = "1";
    var strip = new Image();
    strip.addEventListener("load", function () {
      var poster = scrub.previousElementSibling;
      var aspect = poster.naturalWidth && poster.naturalHeight
        ? poster.naturalWidth / poster.naturalHeight
        : poster.width / poster.height;
      var frames = Math.max(1, Math.round(strip.naturalWidth / (strip.naturalHeight * aspect)));
      scrub.dataset.frames = String(frames);
      scrub.style.backgroundImage = 'url("' + strip.src + '")';
      scrub.style.backgroundSize = frames * 100 + "% 100%";
      if (scrub.dataset.pointerX) showFrame(scrub, parseFloat(scrub.dataset.pointerX));
    });
    strip.src = scrub.dataset.sprite;
  }
  document.addEventListener("pointermove", function (event) {
    if (event.pointerType === "touch") return;
    var frame = event.target.closest && event.target.closest(".frame");
    var scrub = frame && frame.querySelector(".scrub[data-sprite]");
    if (!scrub) return;
    scrub.dataset.pointerX = String(event.clientX);
    if (scrub.dataset.frames) showFrame(scrub, event.clientX);
    else loadStrip(scrub);
  });
  document.addEventListener("pointerout", function (event) {
    var frame = event.target.closest && event.target.closest(".frame");
    if (!frame || (event.relatedTarget && frame.contains(event.relatedTarget))) return;
    var scrub = frame.querySelector(".scrub");
    if (scrub) {
      scrub.classList.remove("showing");
      delete scrub.dataset.pointerX;
    }
  });
})();
