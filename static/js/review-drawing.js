// Drawing on the paused frame: a canvas laid over the video's picture, tools (pen, arrow,
// rectangle, text), a colour, undo and clear. The shapes go with the comment as JSON in a
// hidden input, in coordinates normalised to the frame (0..1 of its width and height), and
// the comments' drawings are shown over the video while the playhead is on their frame (or
// within their range). The sizes are those of generations/media/drawing.py, which renders
// the same shapes to a PNG. review.js calls window.ReviewDrawing.setup with its player.
(function () {
  "use strict";
  var WIDTH = 0.006; // a stroke, as a fraction of the frame's shorter side
  var TEXT_SIZE = 0.05;
  var ARROW_HEAD = 0.04;
  var ARROW_HEAD_ANGLE = (28 * Math.PI) / 180;
  var MAX_SHAPES = 100;
  var MAX_POINTS = 1000;
  var MIN_STEP = 0.002; // pen points nearer than this to the last one add nothing
  var TOOL_NAMES = { pen: "pen", arrow: "arrow", rect: "rectangle", text: "text" };

  function clamp01(x) { return Math.min(Math.max(x, 0), 1); }
  function round(x) { return Math.round(x * 1e5) / 1e5; }

  // Draw `shapes` on a context whose canvas shows the whole frame at `w` x `h` pixels.
  function drawShapes(ctx, shapes, w, h) {
    var short = Math.min(w, h);
    shapes.forEach(function (s) {
      var stroke = Math.max(1, s.width * short);
      ctx.save();
      ctx.strokeStyle = ctx.fillStyle = s.color;
      ctx.lineWidth = stroke;
      ctx.lineCap = ctx.lineJoin = "round";
      if (s.tool === "pen" || s.tool === "arrow") {
        var pts = s.points.map(function (p) { return [p[0] * w, p[1] * h]; });
        ctx.beginPath();
        ctx.moveTo(pts[0][0], pts[0][1]);
        if (pts.length === 1) ctx.lineTo(pts[0][0] + 0.01, pts[0][1]); // a dot
        for (var i = 1; i < pts.length; i++) ctx.lineTo(pts[i][0], pts[i][1]);
        ctx.stroke();
        if (s.tool === "arrow") {
          var tail = pts[0], tip = pts[1];
          var length = Math.max(3 * stroke, ARROW_HEAD * short);
          var angle = Math.atan2(tip[1] - tail[1], tip[0] - tail[0]);
          ctx.beginPath();
          ctx.moveTo(tip[0], tip[1]);
          ctx.lineTo(tip[0] - length * Math.cos(angle - ARROW_HEAD_ANGLE), tip[1] - length * Math.sin(angle - ARROW_HEAD_ANGLE));
          ctx.lineTo(tip[0] - length * Math.cos(angle + ARROW_HEAD_ANGLE), tip[1] - length * Math.sin(angle + ARROW_HEAD_ANGLE));
          ctx.closePath();
          ctx.fill();
        }
      } else if (s.tool === "rect") {
        ctx.lineJoin = "miter";
        ctx.strokeRect(s.x * w, s.y * h, s.w * w, s.h * h);
      } else if (s.tool === "text") {
        var size = Math.max(6, Math.round(TEXT_SIZE * short));
        ctx.font = size + "px sans-serif";
        ctx.textBaseline = "top";
        ctx.lineWidth = Math.max(2, 2 * Math.floor(size / 10)); // an outline: legible on any frame
        ctx.strokeStyle = "#000";
        ctx.strokeText(s.text, s.x * w, s.y * h);
        ctx.fillText(s.text, s.x * w, s.y * h);
      }
      ctx.restore();
    });
  }

  function setup(o) {
    var box = o.root.querySelector("[data-frame-box]");
    var canvas = box && box.querySelector("[data-drawing-layer]");
    var video = box && box.querySelector("video[data-video]");
    if (!canvas || !video) return null;
    var ctx = canvas.getContext("2d");
    var clock = o.clock, transport = o.transport, form = o.form;
    var tools = form && form.querySelector("[data-drawing-tools]");
    var input = tools && tools.querySelector("[data-drawing-input]");
    var colour = tools && tools.querySelector("[data-draw-color]");
    var textLabel = tools && tools.querySelector("[data-draw-text-label]");
    var textInput = tools && tools.querySelector("[data-draw-text]");
    var status = tools && tools.querySelector("[data-draw-status]");
    var startInput = form && form.querySelector("[name=start_seconds]");
    var endInput = form && form.querySelector("[name=end_seconds]");
    var shapes = [], tool = null, current = null, parsed = new WeakMap();
    // Where the keyboard draws: arrow keys move it, Enter starts and ends a shape there.
    var cursor = [0.5, 0.5];

    // The canvas covers the picture itself, not the element's letterbox (a portrait take
    // held to the page's width keeps its height, so its picture is narrower than its box).
    function fit() {
      var ew = video.clientWidth, eh = video.clientHeight;
      var vw = video.videoWidth || parseFloat(video.getAttribute("width")) || 16;
      var vh = video.videoHeight || parseFloat(video.getAttribute("height")) || 9;
      var cw = ew, ch = ew * (vh / vw);
      if (ch > eh) { ch = eh; cw = eh * (vw / vh); }
      canvas.style.left = video.offsetLeft + (ew - cw) / 2 + "px";
      canvas.style.top = video.offsetTop + (eh - ch) / 2 + "px";
      canvas.style.width = cw + "px";
      canvas.style.height = ch + "px";
      var ratio = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(cw * ratio));
      canvas.height = Math.max(1, Math.round(ch * ratio));
      render();
    }

    function frames(start, end) {
      var s = parseFloat(start), e = parseFloat(end);
      if (isNaN(s)) return null;
      var first = clock.frameOf(s);
      return [first, isNaN(e) ? first : Math.max(first, clock.frameOf(e))];
    }
    function covers(range, frame) { return range !== null && frame >= range[0] && frame <= range[1]; }
    function shapesOf(el) {
      var known = parsed.get(el);
      if (known && known.text === el.dataset.drawing) return known.shapes;
      var list = [];
      try { list = JSON.parse(el.dataset.drawing); } catch (err) { list = []; }
      if (!Array.isArray(list)) list = [];
      parsed.set(el, { text: el.dataset.drawing, shapes: list });
      return list;
    }
    function draftRange() { return startInput ? frames(startInput.value, endInput && endInput.value) : null; }

    function render() {
      var w = canvas.width, h = canvas.height, now = clock.frameOf(transport.time());
      ctx.clearRect(0, 0, w, h);
      var showing = [];
      document.querySelectorAll("[data-comment][data-drawing]").forEach(function (el) {
        if (!covers(frames(el.dataset.start, el.dataset.end), now)) return;
        drawShapes(ctx, shapesOf(el), w, h);
        showing.push(el.id);
      });
      var draft = current ? shapes.concat([current]) : shapes;
      var drafting = draft.length > 0 && covers(draftRange(), now);
      if (drafting) drawShapes(ctx, draft, w, h);
      if (byKeyboard() && document.activeElement === canvas) drawCursor(w, h);
      canvas.dataset.showing = showing.join(" ");
      canvas.dataset.draft = drafting ? "1" : "";
      var count = showing.length + (drafting ? 1 : 0);
      var label = count ? count + " drawing" + (count > 1 ? "s" : "") + " on this frame" : "No drawing on this frame";
      if (byKeyboard()) label += ". " + TOOL_NAMES[tool] + ": arrow keys move the cursor (with Shift, further), Enter starts and ends the shape, Escape stops";
      canvas.setAttribute("aria-label", label);
    }

    // The tools that draw by moving (not text, which has its own field) take the keyboard.
    function byKeyboard() { return tool !== null && tool !== "text"; }
    function drawCursor(w, h) {
      var x = cursor[0] * w, y = cursor[1] * h, arm = Math.max(6, 0.02 * Math.min(w, h));
      ctx.save();
      ctx.lineCap = "round";
      [["#000", 4], ["#fff", 2]].forEach(function (pass) { // legible on any frame
        ctx.strokeStyle = pass[0];
        ctx.lineWidth = pass[1] * (window.devicePixelRatio || 1);
        ctx.beginPath();
        ctx.moveTo(x - arm, y); ctx.lineTo(x + arm, y);
        ctx.moveTo(x, y - arm); ctx.lineTo(x, y + arm);
        ctx.stroke();
      });
      ctx.restore();
    }

    function save(note) {
      if (!input) { render(); return; }
      input.value = shapes.length ? JSON.stringify(shapes) : "";
      tools.querySelector("[data-draw-undo]").disabled = !shapes.length;
      tools.querySelector("[data-draw-clear]").disabled = !shapes.length;
      if (status) {
        var range = draftRange();
        status.textContent = note || (shapes.length
          ? shapes.length + " shape" + (shapes.length > 1 ? "s" : "") + " at " + clock.timecode(clock.startOf(range ? range[0] : 0))
          : "No drawing");
      }
      render();
    }

    function choose(name) {
      if (!tools) return;
      tool = name && name !== tool ? name : null;
      tools.querySelectorAll("[data-tool]").forEach(function (b) {
        b.setAttribute("aria-pressed", b.dataset.tool === tool ? "true" : "false");
      });
      canvas.classList.toggle("active", tool !== null);
      if (byKeyboard()) { canvas.tabIndex = 0; canvas.setAttribute("role", "application"); }
      else { canvas.removeAttribute("tabindex"); canvas.setAttribute("role", "img"); current = null; }
      if (textLabel) textLabel.hidden = tool !== "text";
      if (tool) {
        o.anchor(); // pauses; the comment goes at this frame
        save(TOOL_NAMES[tool] + ": draw on the frame" + (tool === "text" ? " where the text goes" : ""));
        if (tool === "text" && textInput) textInput.focus();
      } else {
        save();
      }
    }

    function at(event) {
      var r = canvas.getBoundingClientRect();
      return [round(clamp01((event.clientX - r.left) / r.width)), round(clamp01((event.clientY - r.top) / r.height))];
    }
    function add(shape) {
      if (shapes.length >= MAX_SHAPES) { save("A drawing has at most " + MAX_SHAPES + " shapes"); return; }
      shapes.push(shape);
      save();
    }
    function placeText(point) {
      var text = textInput ? textInput.value.trim() : "";
      if (!text) { if (textInput) textInput.focus(); save("Write the text first, then click where it goes"); return; }
      add({ tool: "text", x: point[0], y: point[1], text: text, color: colour.value, width: WIDTH });
      textInput.value = "";
    }

    function begin(p) {
      current = { tool: tool, color: colour.value, width: WIDTH, from: p, points: [p] };
      if (tool === "arrow") current.points = [p, p];
      if (tool === "rect") Object.assign(current, { x: p[0], y: p[1], w: 0, h: 0 });
      render();
    }
    canvas.addEventListener("pointerdown", function (event) {
      if (!tool || event.button !== 0) return;
      event.preventDefault();
      o.anchor();
      var p = at(event);
      if (tool === "text") { placeText(p); return; }
      canvas.setPointerCapture(event.pointerId);
      begin(p);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (current) extend(at(event));
    });
    function extend(p) {
      if (current.tool === "pen") {
        var last = current.points[current.points.length - 1];
        if (current.points.length < MAX_POINTS && Math.hypot(p[0] - last[0], p[1] - last[1]) >= MIN_STEP) current.points.push(p);
      } else if (current.tool === "arrow") {
        current.points[1] = p;
      } else {
        var x = Math.min(current.from[0], p[0]), y = Math.min(current.from[1], p[1]);
        current.x = x; current.y = y;
        current.w = round(Math.max(current.from[0], p[0]) - x);
        current.h = round(Math.max(current.from[1], p[1]) - y);
      }
      render();
    }
    function finish() {
      var shape = current;
      current = null;
      if (!shape) return;
      var base = { tool: shape.tool, color: shape.color, width: shape.width };
      if (shape.tool === "pen") add(Object.assign(base, { points: shape.points }));
      else if (shape.tool === "arrow") {
        var a = shape.points[0], b = shape.points[1];
        if (Math.hypot(b[0] - a[0], b[1] - a[1]) > 0.005) add(Object.assign(base, { points: [a, b] }));
        else render();
      } else if (shape.w > 0.002 && shape.h > 0.002) add(Object.assign(base, { x: shape.x, y: shape.y, w: shape.w, h: shape.h }));
      else render();
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", function () { current = null; render(); });

    // Drawing with the keyboard alone. The keys are the canvas's while it has the focus, so
    // the arrows move the cursor here rather than step the video's frames.
    var MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    canvas.addEventListener("keydown", function (event) {
      if (!byKeyboard() || event.ctrlKey || event.metaKey || event.altKey) return;
      var move = MOVES[event.key];
      if (move) {
        var by = event.shiftKey ? 0.1 : 0.01;
        cursor = [round(clamp01(cursor[0] + move[0] * by)), round(clamp01(cursor[1] + move[1] * by))];
        if (current) extend(cursor); else render();
      } else if (event.key === "Enter" || event.key === " ") {
        o.anchor();
        if (current) finish(); else begin(cursor);
      } else if (event.key === "Escape") {
        if (current) { current = null; render(); }
        else {
          var button = tools.querySelector('[data-tool="' + tool + '"]');
          choose(null);
          if (button) button.focus();
        }
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    });
    canvas.addEventListener("focus", render);
    canvas.addEventListener("blur", render);

    if (tools) {
      tools.addEventListener("click", function (event) {
        var button = event.target.closest("button");
        if (!button) return;
        if (button.dataset.tool) {
          choose(button.dataset.tool);
          // Chosen with the keyboard (a click of no pointer): the drawing takes the keys.
          if (event.detail === 0 && byKeyboard()) canvas.focus();
        }
        else if (button.hasAttribute("data-draw-undo")) { shapes.pop(); save(); }
        else if (button.hasAttribute("data-draw-clear")) { shapes = []; save("Drawing cleared"); }
      });
      // Enter places the text in the middle of the frame: drawing with the keyboard alone.
      textInput.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") return;
        event.preventDefault();
        o.anchor();
        var size = TEXT_SIZE * Math.min(canvas.width, canvas.height);
        ctx.font = size + "px sans-serif";
        var wide = canvas.width ? ctx.measureText(textInput.value.trim()).width / canvas.width : 0;
        placeText([round(clamp01(0.5 - wide / 2)), round(clamp01(0.5 - size / canvas.height / 2))]);
      });
    }

    if (window.ResizeObserver) new ResizeObserver(fit).observe(video);
    window.addEventListener("resize", fit);
    video.addEventListener("loadedmetadata", fit);
    fit();
    save();

    return {
      render: render,
      choose: choose,
      tool: function () { return tool; },
      // After the comment is sent: the next one starts with no drawing.
      reset: function () { shapes = []; current = null; choose(null); }
    };
  }

  window.ReviewDrawing = { setup: setup, drawShapes: drawShapes };
})();
