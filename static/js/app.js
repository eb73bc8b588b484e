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

  // Uploads show how far they have got, from the request's own upload events (htmx's
  // progress events mix the upload with the answer's download, which read as "done" at
  // once), then that the files are being checked: only once every byte is sent.
  function progressBox(form) { return form.querySelector(".upload-progress"); }
  function showProgress(box, percent, text) {
    var bar = box.querySelector("progress");
    if (percent === null) bar.removeAttribute("value"); else bar.value = percent;
    box.querySelector("small").textContent = text;
    box.hidden = false;
  }
  function megabytes(bytes) { return (bytes / 1e6).toFixed(1) + " MB"; }
  document.addEventListener("htmx:beforeSend", function (event) {
    var form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-upload-progress]")) return;
    var box = progressBox(form);
    var hasFiles = Array.prototype.some.call(
      form.querySelectorAll("input[type=file]:enabled"),
      function (input) { return input.files && input.files.length; });
    showProgress(box, null, hasFiles ? "Starting the upload…" : "Sending…");
    var upload = event.detail.xhr.upload;
    upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable || !progress.total) return;
      var percent = Math.floor((100 * progress.loaded) / progress.total);
      if (progress.loaded >= progress.total) return;  // "load" says when it is all sent
      showProgress(box, percent, "Uploading: " + percent + " % (" +
        megabytes(progress.loaded) + " of " + megabytes(progress.total) + ")");
    });
    upload.addEventListener("load", function () {
      showProgress(box, 100, hasFiles ? "Uploaded; checking the files…" : "Sent; checking…");
    });
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

  // A refused form comes back drawn again with its errors under its fields: the files chosen
  // stay chosen (a page may move a FileList into the new input; it could not pick a file).
  var keptFiles = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!form || !form.matches || !form.matches("form[data-upload-progress]")) return;
    keptFiles = {};
    form.querySelectorAll("input[type=file]").forEach(function (input) {
      if (input.files && input.files.length) keptFiles[input.name] = input.files;
    });
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!keptFiles) return;
    var kept = keptFiles;
    keptFiles = null;
    document.querySelectorAll("form[data-upload-progress] input[type=file]").forEach(function (input) {
      if (!kept[input.name]) return;
      input.files = kept[input.name];
      input.dispatchEvent(new Event("change", {bubbles: true}));
    });
  });

  // Audio-to-video lasts as long as its audio and is billed by it: the browser reads the
  // chosen file's length, and the estimate shows the total rather than a rate.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("input[type=file][data-audio-length]")) return;
    var seconds = input.form.querySelector("input[name=audio_seconds]");
    var file = input.files && input.files[0];
    seconds.value = "";
    if (!file) return;
    var url = URL.createObjectURL(file);
    var audio = new Audio();
    function done() {
      URL.revokeObjectURL(url);
      if (isFinite(audio.duration) && audio.duration > 0) {
        seconds.value = audio.duration.toFixed(2);
        seconds.dispatchEvent(new Event("change", {bubbles: true}));  // the estimate asks again
      }
    }
    audio.preload = "metadata";
    audio.addEventListener("loadedmetadata", done, {once: true});
    audio.addEventListener("error", function () { URL.revokeObjectURL(url); }, {once: true});
    audio.src = url;
  });

  // Variations: each model and duration ticked is a job of its own. One the API would not
  // make at the chosen size and rate is refused here, with the reason, before anything is
  // sent (the ticked box is made invalid, so the form does not submit).
  function checkVariations(form) {
    var box = form.querySelector("[data-variation-matrix]");
    var choice = form.querySelector("select[data-endpoint-choice]");
    if (!box || !choice) return;
    var problem = box.querySelector(".variation-problem");
    var ticks = box.querySelectorAll("input[type=checkbox]");
    ticks.forEach(function (tick) { tick.setCustomValidity(""); });
    var matrix = JSON.parse(box.dataset.variationMatrix)[choice.value];
    var model = form.querySelector("select[name=model]");
    var resolution = form.querySelector("select[name=resolution]");
    var fps = form.querySelector("select[name=fps]");
    var duration = form.querySelector("select[name=duration]");
    var reasons = [];
    if (matrix && model && resolution && fps && duration) {
      var models = [model.value], durations = [Number(duration.value)];
      ticks.forEach(function (tick) {
        if (!tick.checked) return;
        if (tick.name === "also_model" && models.indexOf(tick.value) === -1) models.push(tick.value);
        if (tick.name === "also_duration" && durations.indexOf(Number(tick.value)) === -1) {
          durations.push(Number(tick.value));
        }
      });
      models.forEach(function (m) {
        var offered = matrix[m + " " + resolution.value + " " + fps.value] || [];
        durations.forEach(function (d) {
          if (offered.indexOf(d) !== -1) return;
          var reason = m + " does not make " + d + " s at " + resolution.value + " and " +
            fps.value + " fps (" + (offered.length ? "it makes " + offered.join(", ") + " s there"
            : "it does not make that size and rate") + ")";
          reasons.push(reason);
          var culprit = m !== model.value
            ? box.querySelector("input[name=also_model][value='" + m + "']")
            : box.querySelector("input[name=also_duration][value='" + d + "']");
          if (culprit) culprit.setCustomValidity(reason);
        });
      });
    }
    problem.textContent = reasons.length
      ? "Not possible: " + reasons.join("; ") + ". Untick it, or change the settings above." : "";
    problem.hidden = !reasons.length;
  }
  function checkAllVariations() {
    document.querySelectorAll("form[data-upload-progress]").forEach(checkVariations);
  }
  document.addEventListener("change", function (event) {
    if (event.target.form) checkVariations(event.target.form);
  });
  document.addEventListener("DOMContentLoaded", checkAllVariations);
  // The settings are drawn again (htmx) when the model or size changes.
  document.addEventListener("htmx:load", checkAllVariations);

  // A request htmx sent for the person (a form, a button) that failed is said where they
  // pressed, not dropped: htmx swaps only answers the page's htmx-config names (2xx, 422),
  // so a 403 after the session ended, a 429, a 500 or a lost connection left a silent page
  // with nothing saved. What was typed stays in the form. Polls and estimates (GET) stay quiet.
  function requestProblem(status) {
    if (!status) return "Not sent: the server could not be reached. Check the connection and try again; what you typed is still here.";
    if (status === 403) return "Not saved: the server refused it (HTTP 403). Your session may have ended: copy what you typed, then reload the page.";
    if (status === 404) return "Not saved: what this acts on is gone (HTTP 404). Reload the page to see it as it is now.";
    if (status === 413) return "Not sent: it is larger than the server takes (HTTP 413).";
    if (status === 429) return "Not saved: too many requests (HTTP 429). Wait a moment and try again.";
    return "Not saved: the server failed (HTTP " + status + "). Try again in a moment; what you typed is still here.";
  }
  function showRequestProblem(event) {
    var config = event.detail.requestConfig || {};
    if (!config.verb || config.verb.toLowerCase() === "get") return;
    var elt = event.detail.elt;
    var place = (elt.closest && elt.closest("form")) || elt;
    var note = place.querySelector("[data-request-problem]");
    if (!note) {
      note = document.createElement("p");
      note.className = "message error";
      note.setAttribute("role", "alert");
      note.setAttribute("data-request-problem", "");
      var button = place.querySelector("button[type=submit], button:not([type])");
      if (button && button.parentNode) button.parentNode.insertBefore(note, button.nextSibling);
      else place.appendChild(note);
    }
    note.textContent = requestProblem(event.detail.xhr ? event.detail.xhr.status : 0);
  }
  document.addEventListener("htmx:responseError", showRequestProblem);
  document.addEventListener("htmx:sendError", showRequestProblem);
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    var place = elt && elt.closest ? elt.closest("form") || elt : null;
    var note = place && place.querySelector("[data-request-problem]");
    if (note && event.detail.successful) note.remove();
  });

  // A form that cannot be undone in one click (data-confirm) asks first; the form then posts
  // as it would without script, so a refusal comes back as a page with its error in place.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
