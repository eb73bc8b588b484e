// The review player: frame-accurate timecodes at the video's fps, a timeline to click or
// drag (a moment or a range to comment on), comment markers, drawings on the frame
// (review-drawing.js), keyboard shortcuts, and two videos played in sync for comparing
// versions. No inline script: pages carry data-*.
(function () {
  "use strict";
  var EPSILON = 1e-6;
  // A time a hair under a frame boundary is in the frame after it: comment times are kept to
  // 6 decimals, so k / 24 s comes back up to 5e-7 s short (as generations/review/timecode.py).
  var FRAME_EPSILON = 1e-3;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clamp(x, lo, hi) { return Math.min(Math.max(x, lo), hi); }

  function Clock(fps) {
    this.fps = fps > 0 ? fps : 24;
    this.base = Math.max(1, Math.round(this.fps)); // timecode frames per second (non-drop)
  }
  Clock.prototype.frameOf = function (seconds) {
    return Math.max(0, Math.floor(seconds * this.fps + FRAME_EPSILON));
  };
  Clock.prototype.startOf = function (frame) {
    return Math.round((frame / this.fps) * 1e6) / 1e6;
  };
  Clock.prototype.timecode = function (seconds) {
    var frame = this.frameOf(seconds);
    var whole = Math.floor(frame / this.base);
    return pad(Math.floor(whole / 3600)) + ":" + pad(Math.floor(whole / 60) % 60) + ":" +
      pad(whole % 60) + ":" + pad(frame % this.base);
  };

  // One or more videos driven as one: play, pause, seek and step together.
  function Transport(root, videos, clock, duration) {
    this.root = root;
    this.videos = videos;
    this.clock = clock;
    this.duration = duration;
    this.lead = videos[0];
    var self = this;
    this.lead.addEventListener("timeupdate", function () { self.follow(); self.render(); });
    this.lead.addEventListener("seeked", function () { self.render(); });
    this.lead.addEventListener("play", function () { self.render(); });
    this.lead.addEventListener("pause", function () { self.align(); self.render(); });
    this.lead.addEventListener("loadedmetadata", function () {
      if (!self.duration && isFinite(self.lead.duration)) self.duration = self.lead.duration;
      self.render();
    });
    this.onRender = [];
  }
  Transport.prototype.time = function () { return this.lead.currentTime || 0; };
  Transport.prototype.playing = function () { return !this.lead.paused && !this.lead.ended; };
  Transport.prototype.toggle = function () {
    if (this.playing()) {
      this.videos.forEach(function (v) { v.pause(); });
    } else {
      this.align();
      this.videos.forEach(function (v) { var p = v.play(); if (p && p.catch) p.catch(function () {}); });
    }
  };
  Transport.prototype.seek = function (seconds) {
    var t = clamp(seconds, 0, this.duration || seconds);
    this.videos.forEach(function (v) { v.currentTime = t; });
    this.render();
  };
  // Land inside the frame, not on its edge, so the frame shown is the frame named.
  Transport.prototype.seekFrame = function (frame) {
    var last = this.duration ? this.clock.frameOf(this.duration - 1 / this.clock.fps) : frame;
    var f = clamp(frame, 0, Math.max(0, last));
    this.seek(this.clock.startOf(f) + 0.25 / this.clock.fps);
  };
  Transport.prototype.step = function (frames) {
    this.videos.forEach(function (v) { v.pause(); });
    this.seekFrame(this.clock.frameOf(this.time()) + frames);
  };
  Transport.prototype.align = function () {
    var t = this.time();
    this.videos.forEach(function (v, i) { if (i > 0 && Math.abs(v.currentTime - t) > EPSILON) v.currentTime = t; });
  };
  // While playing, a follower that drifts more than two frames is put back in step.
  Transport.prototype.follow = function () {
    var t = this.time(), limit = 2 / this.clock.fps;
    for (var i = 1; i < this.videos.length; i++) {
      var v = this.videos[i];
      if (v.paused !== this.lead.paused) { if (this.lead.paused) v.pause(); else v.play().catch(function () {}); }
      if (Math.abs(v.currentTime - t) > limit) v.currentTime = t;
    }
  };
  Transport.prototype.render = function () {
    var self = this;
    this.onRender.forEach(function (fn) { fn(self); });
  };

  function place(el, start, end, duration) {
    if (!duration) return;
    el.style.left = clamp((start / duration) * 100, 0, 100) + "%";
    if (end != null && !isNaN(end)) el.style.width = Math.max(0.4, ((end - start) / duration) * 100) + "%";
  }

  function setupPlayer(root) {
    var videos = Array.prototype.slice.call(root.querySelectorAll("video[data-video]"));
    if (!videos.length) return null;
    var clock = new Clock(parseFloat(root.dataset.fps));
    var transport = new Transport(root, videos, clock, parseFloat(root.dataset.duration) || 0);
    var timecodeOut = root.querySelector("[data-timecode]");
    var frameOut = root.querySelector("[data-frame]");
    var playButton = root.querySelector("[data-action=play]");
    var timeline = root.querySelector("[data-timeline]");
    var playhead = root.querySelector("[data-playhead]");
    var selection = root.querySelector("[data-selection]");
    var form = document.querySelector("form[data-comment-form]");
    var startInput = form && form.querySelector("[name=start_seconds]");
    var endInput = form && form.querySelector("[name=end_seconds]");
    var drawing = null; // the drawing layer (review-drawing.js), set up below

    transport.onRender.push(function (t) {
      var now = t.time();
      if (timecodeOut) timecodeOut.textContent = clock.timecode(now);
      if (frameOut) frameOut.textContent = "frame " + clock.frameOf(now);
      if (playButton) playButton.textContent = t.playing() ? "Pause" : "Play";
      if (playhead && t.duration) playhead.style.left = clamp((now / t.duration) * 100, 0, 100) + "%";
      if (timeline) timeline.setAttribute("aria-valuenow", now.toFixed(3));
      if (timeline) timeline.setAttribute("aria-valuetext", clock.timecode(now));
    });

    function showSelection() {
      if (!selection || !startInput) return;
      var s = parseFloat(startInput.value), e = parseFloat(endInput && endInput.value);
      if (isNaN(s)) { selection.hidden = true; return; }
      selection.hidden = false;
      place(selection, s, isNaN(e) ? s : e, transport.duration);
      var outS = form.querySelector("[data-start-timecode]"), outE = form.querySelector("[data-end-timecode]");
      if (outS) outS.textContent = clock.timecode(s);
      if (outE) outE.textContent = isNaN(e) ? "" : "to " + clock.timecode(e);
      if (drawing) drawing.render(); // a drawing being made shows at the comment's frames
    }
    function frameStart(seconds) { return clock.startOf(clock.frameOf(seconds)); }
    function markIn(seconds) {
      if (!startInput) return;
      startInput.value = frameStart(seconds);
      var e = parseFloat(endInput.value);
      if (!isNaN(e) && e < seconds) endInput.value = "";
      showSelection();
    }
    function markOut(seconds) {
      if (!startInput) return;
      var s = parseFloat(startInput.value);
      if (isNaN(s)) { startInput.value = 0; s = 0; }
      var e = frameStart(seconds);
      if (e < s) { endInput.value = s; startInput.value = e; } else { endInput.value = e; }
      showSelection();
    }
    function clearRange() { if (endInput) endInput.value = ""; showSelection(); }
    function commentHere() {
      if (!form) return;
      transport.videos.forEach(function (v) { v.pause(); });
      var s = parseFloat(startInput.value), e = parseFloat(endInput.value), now = transport.time();
      if (isNaN(s) || isNaN(e) || now < s || now > e) { startInput.value = frameStart(now); endInput.value = ""; }
      showSelection();
      form.querySelector("textarea").focus();
    }
    // Drawing pauses on a frame: the comment goes there, unless its range already holds it.
    function anchorHere() {
      transport.videos.forEach(function (v) { v.pause(); });
      if (!startInput) return;
      var now = clock.frameOf(transport.time()), s = parseFloat(startInput.value), e = parseFloat(endInput.value);
      var first = clock.frameOf(s), last = isNaN(e) ? first : clock.frameOf(e);
      if (isNaN(s) || now < first || now > last) { startInput.value = clock.startOf(now); endInput.value = ""; }
      showSelection();
    }
    if (startInput) {
      startInput.addEventListener("input", showSelection);
      endInput.addEventListener("input", showSelection);
      form.addEventListener("reset", function () { setTimeout(showSelection, 0); });
    }

    function secondsAt(clientX) {
      var box = timeline.getBoundingClientRect();
      return clamp((clientX - box.left) / box.width, 0, 1) * (transport.duration || 0);
    }
    if (timeline) {
      var dragFrom = null, dragged = false;
      timeline.addEventListener("pointerdown", function (event) {
        if (event.target.closest("[data-marker]")) return;
        dragFrom = secondsAt(event.clientX);
        dragged = false;
        timeline.setPointerCapture(event.pointerId);
      });
      timeline.addEventListener("pointermove", function (event) {
        if (dragFrom === null) return;
        var t = secondsAt(event.clientX);
        if (!dragged && Math.abs(t - dragFrom) * clock.fps < 2) return;
        dragged = true;
        if (startInput) {
          startInput.value = frameStart(Math.min(dragFrom, t));
          endInput.value = frameStart(Math.max(dragFrom, t));
          showSelection();
        }
        transport.seek(t);
      });
      timeline.addEventListener("pointerup", function (event) {
        if (dragFrom === null) return;
        var t = secondsAt(event.clientX);
        if (!dragged) {
          transport.seekFrame(clock.frameOf(t));
          if (event.shiftKey) markOut(t); else if (startInput) { startInput.value = frameStart(t); endInput.value = ""; showSelection(); }
        }
        dragFrom = null;
      });
      timeline.addEventListener("keydown", function (event) {
        if (event.key === "Home") { transport.seekFrame(0); event.preventDefault(); }
        if (event.key === "End") { transport.seek(transport.duration); event.preventDefault(); }
      });
    }

    root.addEventListener("click", function (event) {
      var button = event.target.closest("[data-action]");
      if (!button || !root.contains(button)) return;
      var action = button.dataset.action;
      if (action === "play") transport.toggle();
      if (action === "frame-back") transport.step(-1);
      if (action === "frame-forward") transport.step(1);
      if (action === "mark-in") markIn(transport.time());
      if (action === "mark-out") markOut(transport.time());
      if (action === "comment-here") commentHere();
    });

    // Ranges drawn on the timeline: the retaken section, comment markers.
    function drawMarkers() {
      if (!timeline) return;
      timeline.querySelectorAll("[data-range]").forEach(function (el) {
        place(el, parseFloat(el.dataset.start), parseFloat(el.dataset.end), transport.duration);
      });
      var holder = timeline.querySelector("[data-markers]");
      if (!holder) return;
      holder.textContent = "";
      document.querySelectorAll("[data-comment]").forEach(function (comment) {
        var s = parseFloat(comment.dataset.start), e = parseFloat(comment.dataset.end);
        if (isNaN(s)) return;
        // A mark, not a button: the slider's parts are presentational, and each comment's
        // timecode button in the list below is the keyboard's way to the same moment.
        var marker = document.createElement("span");
        marker.setAttribute("aria-hidden", "true");
        marker.className = "marker" + (isNaN(e) ? "" : " range") + (comment.dataset.resolved ? " resolved" : "") + (comment.dataset.drawing ? " drawn" : "");
        marker.dataset.marker = comment.id;
        marker.dataset.seek = s;
        marker.title = clock.timecode(s) + (isNaN(e) ? "" : " – " + clock.timecode(e)) + " " + (comment.dataset.summary || "");
        place(marker, s, isNaN(e) ? null : e, transport.duration);
        holder.appendChild(marker);
      });
    }
    if (window.ReviewDrawing) {
      drawing = window.ReviewDrawing.setup({ root: root, transport: transport, clock: clock, form: form, anchor: anchorHere });
      if (drawing) transport.onRender.push(function () { drawing.render(); });
    }
    transport.lead.addEventListener("loadedmetadata", drawMarkers);
    // A comment sent with htmx: once the list shows it (and no error), the form empties.
    var sending = false;
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (form && event.detail.elt === form) sending = true;
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      if (sending && form && !document.querySelector("[data-comment-error]")) {
        // The list is redrawn, not announced: the form's status line tells a screen reader.
        var status = form.querySelector("[data-comment-status]");
        if (status) status.textContent = "Comment added at " + clock.timecode(parseFloat(startInput.value) || 0);
        form.querySelector("textarea").value = "";
        endInput.value = "";
        if (drawing) drawing.reset();
      }
      sending = false;
      drawMarkers();
      showSelection();
    });
    drawMarkers();
    showSelection();

    // Clicking a comment's timecode (or a marker) seeks the player to it.
    document.addEventListener("click", function (event) {
      var target = event.target.closest("[data-seek]");
      if (!target) return;
      event.preventDefault();
      transport.videos.forEach(function (v) { v.pause(); });
      transport.seekFrame(clock.frameOf(parseFloat(target.dataset.seek)));
      var id = target.dataset.marker;
      if (id) {
        var comment = document.getElementById(id);
        if (comment) { comment.scrollIntoView({ block: "nearest" }); comment.classList.add("flash"); setTimeout(function () { comment.classList.remove("flash"); }, 1200); }
      }
    });

    return { transport: transport, markIn: markIn, markOut: markOut, clearRange: clearRange, commentHere: commentHere, drawing: drawing };
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function clickShortcut(key) {
    var el = document.querySelector('[data-shortcut="' + key + '"]');
    if (!el) return false;
    if (el.tagName === "A") window.location.assign(el.href); else el.click();
    return true;
  }

  // A decision by key is not sent at once: a toast counts down with Undo, so a stray key
  // records nothing. Request changes needs its reason first: C with none opens the box.
  var pending = null;
  function toast(text) {
    var box = document.querySelector("[data-decision-toast]");
    box.querySelector("[data-toast-text]").textContent = text;
    box.hidden = false;
  }
  function decideByKey(key) {
    var button = document.querySelector('[data-shortcut="' + key + '"]');
    if (!button || pending) return false;
    var form = button.form, reason = form.querySelector("textarea[name=comment]");
    if (key === "c" && !reason.value.trim()) {
      reason.focus();
      form.querySelector("[data-reason-hint]").hidden = false;
      return true;
    }
    var seconds = parseFloat(form.dataset.undoSeconds) || 5;
    pending = { button: button, timer: window.setTimeout(sendDecision, seconds * 1000) };
    toast(button.dataset.pendingText + " in " + seconds + " s");
    return true;
  }
  function sendDecision() {
    if (!pending) return;
    var button = pending.button;
    window.clearTimeout(pending.timer);
    pending = null;
    button.click();
  }
  function undoDecision() {
    if (!pending) return;
    window.clearTimeout(pending.timer);
    pending = null;
    toast("Undone: nothing was recorded");
    window.setTimeout(function () {
      if (!pending) document.querySelector("[data-decision-toast]").hidden = true;
    }, 2500);
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-toast-undo]")) undoDecision();
    else if (event.target.closest("[data-toast-now]")) sendDecision();
  });
  document.addEventListener("keydown", function (event) {
    // Ctrl+Enter in the reason box sends the request for changes (then with its reason).
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.name === "comment") {
      var button = event.target.form && event.target.form.querySelector('[data-shortcut="c"]');
      if (button && event.target.value.trim()) { event.preventDefault(); button.click(); }
    }
  });
  // Leaving the page while a decision counts down sends it: it was asked for.
  window.addEventListener("pagehide", function () {
    if (!pending) return;
    var data = new FormData(pending.button.form);
    data.append("state", pending.button.value);
    navigator.sendBeacon(pending.button.form.action, data);
    pending = null;
  });

  // A version still being made: its card polls (app.js), and once the card stops polling
  // (the job ended) the page is loaded again, with the player.
  document.addEventListener("htmx:afterSettle", function (event) {
    var holder = document.querySelector("[data-reload-when-done]");
    if (holder && holder.contains(event.target) && !holder.querySelector("[data-poll]")) {
      window.location.reload();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-player]");
    var player = root ? setupPlayer(root) : null;
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      var key = event.key, handled = true;
      // Space on a focused button or link presses it, as everywhere; elsewhere it plays.
      if (key === " " && event.target.closest("button, a, summary, [role=button]")) return;
      if (player && (key === " " || key === "k")) player.transport.toggle();
      else if (player && (key === "ArrowLeft" || key === ",")) player.transport.step(event.shiftKey ? -player.transport.clock.base : -1);
      else if (player && (key === "ArrowRight" || key === ".")) player.transport.step(event.shiftKey ? player.transport.clock.base : 1);
      else if (player && key === "i") player.markIn(player.transport.time());
      else if (player && key === "o") player.markOut(player.transport.time());
      else if (player && key === "m") player.commentHere();
      else if (player && player.drawing && key === "d") player.drawing.choose("pen");
      else if (player && player.drawing && key === "Escape" && player.drawing.tool()) player.drawing.choose(null);
      else if (player && key === "Escape") player.clearRange();
      else if (key === "a" || key === "c") handled = decideByKey(key);
      else if ((key === "u" || key === "Escape") && pending) undoDecision();
      else if (key === "n") handled = clickShortcut(key);
      else if (key === "Enter" && event.target === document.body) handled = clickShortcut("enter");
      else handled = false;
      if (handled) event.preventDefault();
    });
  });
})();
