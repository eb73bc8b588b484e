// The sequence player: one <video> that plays each shot's take in turn, one timeline for the
// whole sequence (click to seek anywhere, shots as segments), and the comment form's moment
// kept at the playhead, so a comment lands on the take and frame under it. Data in data-*.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function timecode(seconds, fps) {
    var base = Math.max(1, Math.round(fps)), frame = Math.floor(seconds * fps + 1e-6);
    var whole = Math.floor(frame / base);
    return pad(Math.floor(whole / 3600)) + ":" + pad(Math.floor(whole / 60) % 60) + ":" +
      pad(whole % 60) + ":" + pad(frame % base);
  }

  function setUp(root) {
    var video = root.querySelector("[data-video]");
    var timeline = root.querySelector("[data-timeline]");
    var playhead = root.querySelector("[data-playhead]");
    var total = parseFloat(root.dataset.total) || 0;
    var segments = Array.prototype.map.call(root.querySelectorAll("[data-segment]"), function (el) {
      return { el: el, start: parseFloat(el.dataset.start), seconds: parseFloat(el.dataset.seconds),
               fps: parseFloat(el.dataset.fps) || 25, src: el.dataset.src, label: el.dataset.label };
    });
    var current = 0, wantPlay = false;
    segments.forEach(function (s) {
      s.el.style.width = (100 * s.seconds / total) + "%";
    });

    function now() { return segments[current].start + (video.currentTime || 0); }
    function render() {
      var t = now(), s = segments[current];
      playhead.style.left = Math.min(100, (100 * t) / total) + "%";
      timeline.setAttribute("aria-valuenow", t.toFixed(3));
      root.querySelector("[data-timecode]").textContent = timecode(t, s.fps);
      root.querySelector("[data-now-shot]").textContent = s.label;
      root.querySelector("[data-action=play]").textContent = video.paused ? "Play" : "Pause";
      segments.forEach(function (seg, i) { seg.el.classList.toggle("current", i === current); });
      var at = document.querySelector("[data-sequence-comment] [data-at]");
      if (at && video.paused) at.value = t.toFixed(3);
    }
    // Show segment i from `offset` seconds into it; keep playing if we were.
    function load(i, offset) {
      var playing = !video.paused || wantPlay;
      if (i !== current || !video.currentSrc) {
        current = i;
        video.src = segments[i].src;
        video.addEventListener("loadedmetadata", function once() {
          video.removeEventListener("loadedmetadata", once);
          video.currentTime = offset;
          if (playing) video.play().catch(function () {});
          render();
        });
      } else {
        video.currentTime = offset;
      }
      render();
    }
    function seek(t) {
      t = Math.max(0, Math.min(t, total - 0.001));
      for (var i = 0; i < segments.length; i++) {
        if (t < segments[i].start + segments[i].seconds || i === segments.length - 1) {
          // Inside the frame, not on its edge, so the frame shown is the one named.
          load(i, Math.max(0, t - segments[i].start) + 0.25 / segments[i].fps);
          return;
        }
      }
    }

    video.addEventListener("timeupdate", render);
    video.addEventListener("pause", render);
    video.addEventListener("play", function () { wantPlay = false; render(); });
    video.addEventListener("ended", function () {
      if (current + 1 < segments.length) { wantPlay = true; load(current + 1, 0); }
      else render();
    });
    root.querySelector("[data-action=play]").addEventListener("click", function () {
      if (video.paused) video.play().catch(function () {}); else video.pause();
    });
    timeline.addEventListener("click", function (event) {
      var box = timeline.getBoundingClientRect();
      seek(((event.clientX - box.left) / box.width) * total);
    });
    timeline.addEventListener("keydown", function (event) {
      var s = segments[current], step = event.shiftKey ? 1 : 1 / s.fps;
      if (event.key === "ArrowRight") seek(now() + step);
      else if (event.key === "ArrowLeft") seek(now() - step);
      else if (event.key === " ") { if (video.paused) video.play().catch(function () {}); else video.pause(); }
      else return;
      event.preventDefault();
    });
    // A comment in the list takes the player to its moment.
    document.addEventListener("click", function (event) {
      var item = event.target.closest && event.target.closest("[data-comment-at]");
      if (!item || event.target.closest("a")) return;
      video.pause();
      seek(parseFloat(item.dataset.commentAt));
    });
    // Each comment as a tick on the timeline, redrawn when the comments are.
    function marks() {
      timeline.querySelectorAll(".comment-mark").forEach(function (m) { m.remove(); });
      document.querySelectorAll("[data-comment-at]").forEach(function (item) {
        var mark = document.createElement("span");
        mark.className = "comment-mark";
        mark.setAttribute("aria-hidden", "true");
        mark.style.left = Math.min(100, (100 * parseFloat(item.dataset.commentAt)) / total) + "%";
        timeline.appendChild(mark);
      });
    }
    document.addEventListener("htmx:afterSwap", function () { marks(); render(); });
    marks();
    render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sequence-player]").forEach(setUp);
  });
})();
