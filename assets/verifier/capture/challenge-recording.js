// FLASHING and ACTIVE_3D: performing the server's challenge and recording the face meanwhile
// (docs/liveness.md: what the capture page records).
// The server stamps the challenge when it answers, so the sequence starts as soon as the answer
// arrives; t0 is when its first thing (black lead-in / "look straight at the camera") is shown,
// and every frame's t is from t0. The still the face match uses is part of the same performance,
// drawn at the end of the lead-in: looking straight at the camera (ACTIVE_3D), not yet under a
// coloured screen (FLASHING).
import { cameraReport, setExposureMode, stream } from './camera.js';
import { challengeDurationMs, DIRECTION_TEXT, fetchChallenge, flashColourAt } from './challenge-request.js';
import { drawVideo, encodeJpeg, grabStill } from './frames.js';
import { announce, config, cueEl, forgetCue, setCue, setRecording, viewfinder } from './states.js';

var CHALLENGE_MAX_FRAMES = 96, CHALLENGE_FRAME_MAX_BYTES = 100 * 1024;
var CHALLENGE_QUALITY = 0.85, CHALLENGE_MIN_QUALITY = 0.1;
var ACTIVE_BACK_AFTER_MS = 1200; // "now look back at the camera" this long after each instruction
var captureSection = document.getElementById('state-capture');
var flashOverlay = document.getElementById('flash-overlay');
var flashVideo = document.getElementById('flash-video');
var flashText = document.getElementById('flash-text');
var directionEl = document.getElementById('direction');

// ---- what the user sees during the challenge ----
function showDirection(dir) {
  if (!directionEl) return;
  directionEl.className = 'direction' + (dir ? ' dir-' + dir : '');
  directionEl.hidden = !dir;
}

// Black or white text, whichever contrasts more with the screen colour (WCAG relative luminance).
function textColourOn(c) {
  function lin(v) { return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  var l = 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000' : '#fff';
}

// Painted every animation frame, so only a change of colour touches the DOM.
var shownColour = '';
function setFlashColour(c) {
  var css = 'rgb(' + Math.round(c[0] * 255) + ', ' + Math.round(c[1] * 255) + ', ' + Math.round(c[2] * 255) + ')';
  if (css === shownColour) return;
  shownColour = css;
  flashOverlay.style.backgroundColor = css;
  if (flashText) flashText.style.color = textColourOn(c);
}

function startDisplay(ch) {
  if (viewfinder) viewfinder.classList.remove('good');
  if (ch.method === 'FLASHING') {
    shownColour = '';
    setFlashColour([0, 0, 0]);
    flashOverlay.hidden = false;
    announce('flashKeepFace');
  } else {
    if (captureSection) captureSection.classList.add('challenge-active');
    cueEl.setAttribute('aria-live', 'assertive'); // a late instruction is a wrong one
    showDirection(null);
    announce('activeLookStraight');
    if (cueEl.scrollIntoView) cueEl.scrollIntoView({ block: 'nearest' }); // the instruction in view
  }
}

function stopDisplay() {
  if (flashOverlay) flashOverlay.hidden = true;
  if (flashVideo) flashVideo.srcObject = null;
  if (captureSection) captureSection.classList.remove('challenge-active');
  cueEl.setAttribute('aria-live', 'polite');
  showDirection(null);
  setRecording(false);
  forgetCue();
  setCue('cueFit');
}

// ---- the recording ----
// Shows the challenge and records it: frames of frameWidth px at the camera's aspect ratio, JPEG
// 0.85 (lower if one exceeds 100 KB), at ch.fps from t0 until the challenge's duration has passed.
function performChallenge(ch) {
  return new Promise(function (resolve, reject) {
    var duration = challengeDurationMs(ch);
    // At ch.fps; spread wider only if that would exceed the frame limit over the duration.
    var interval = Math.max(1000 / ch.fps, duration / (CHALLENGE_MAX_FRAMES - 1));
    var fw = Math.round(ch.frameWidth);
    var flashing = ch.method === 'FLASHING';
    var frames = [], times = [], pending = [], timers = [];
    var quality = CHALLENGE_QUALITY, t0 = 0, slot = 0, raf = 0, started = false, ended = false, still = null;

    function later(fn, ms) { timers.push(setTimeout(guard(fn), Math.max(0, ms))); }
    function guard(fn) {
      return function () {
        if (ended) return;
        try { fn(); } catch (e) { stop(); reject(e); }
      };
    }
    function stop() {
      ended = true;
      timers.forEach(clearTimeout);
      if (raf) cancelAnimationFrame(raf);
    }

    function encodeFrame(canvas, idx, q) {
      return encodeJpeg(canvas, q).then(function (blob) {
        if (!blob) throw new Error('frame encoding failed');
        if (blob.size <= CHALLENGE_FRAME_MAX_BYTES) { frames[idx] = blob; return; }
        if (q <= CHALLENGE_MIN_QUALITY) throw new Error('frame too large');
        // This frame again, and the later ones, at a lower quality.
        quality = Math.max(CHALLENGE_MIN_QUALITY, Math.min(quality, q - 0.1));
        return encodeFrame(canvas, idx, quality);
      });
    }

    function drawFrame() {
      if (times.length >= CHALLENGE_MAX_FRAMES) return;
      var t = Math.round(performance.now() - t0);
      if (times.length && t <= times[times.length - 1]) return;
      var canvas = drawVideo(fw);
      times.push(t);
      var p = encodeFrame(canvas, times.length - 1, quality);
      p.catch(function () { /* reported by end() */ });
      pending.push(p);
    }

    function tick() {
      var elapsed = performance.now() - t0;
      if (elapsed > duration) return end();
      drawFrame();
      slot = Math.max(slot + 1, Math.floor(elapsed / interval) + 1); // a late timer skips missed slots
      if (slot * interval > duration) later(end, t0 + duration - performance.now());
      else later(tick, t0 + slot * interval - performance.now());
    }

    function paint() {
      if (ended) return;
      setFlashColour(flashColourAt(ch, performance.now() - t0));
      raf = requestAnimationFrame(paint);
    }

    function instruct(key, dir) {
      return function () { announce(key); showDirection(dir); };
    }

    function scheduleInstructions() {
      for (var i = 0; i < ch.steps.length; i++) {
        var step = ch.steps[i];
        var next = i + 1 < ch.steps.length ? ch.steps[i + 1].atMs : duration;
        later(instruct(DIRECTION_TEXT[step.direction], step.direction), t0 + step.atMs - performance.now());
        var back = step.atMs + ACTIVE_BACK_AFTER_MS;
        if (back + 300 <= next) later(instruct('activeBack', null), t0 + back - performance.now());
      }
    }

    function end() {
      if (ended) return;
      stop();
      Promise.all(pending).then(function () {
        for (var i = 0; i < times.length; i++) if (!frames[i]) throw new Error('recording failed');
        if (times.length < 2) throw new Error('recording failed');
        resolve({ frames: frames, times: times, still: still });
      }).catch(reject);
    }

    function start() {
      if (started || ended) return;
      started = true;
      t0 = performance.now();
      tick(); // frame 0, at t ≈ 0
      if (flashing) raf = requestAnimationFrame(paint);
      else scheduleInstructions();
      later(function () {
        still = grabStill();
        still.catch(function () { /* reported by the upload */ });
      }, t0 + Math.max(0, ch.leadInMs - 150) - performance.now());
    }

    startDisplay(ch);
    // t0 is the animation frame that first paints the lead-in; a hidden page gets no animation frames.
    raf = requestAnimationFrame(guard(start));
    later(start, 100);
  });
}

// The press for FLASHING / ACTIVE_3D: resolves the upload (still + frames + times + challenge id),
// or null when the challenge's answer was already shown.
export function challengeUpload() {
  var flashing = config.liveness === 'FLASHING';
  var locked = false, cleaned = false;
  setRecording(true); // the live cues pause from the press
  if (flashing && flashVideo) {
    flashVideo.srcObject = stream; // the small preview on the overlay, ready before the sequence
    var played = flashVideo.play();
    if (played && played.catch) played.catch(function () { /* muted inline video plays anyway */ });
  }
  var ready = flashing ? setExposureMode('manual').then(function (ok) { locked = ok; }) : Promise.resolve();
  function cleanup() {
    if (cleaned) return;
    cleaned = true;
    stopDisplay();
    if (locked) setExposureMode('continuous');
  }
  return ready.then(fetchChallenge).then(function (ch) {
    if (!ch) return null;
    return performChallenge(ch).then(function (rec) {
      var still = rec.still || grabStill(); // (a recording stopped before its lead-in ended)
      return still.then(function (stillBlob) {
        var form = new FormData();
        form.append('still', stillBlob, 'still.jpg');
        rec.frames.forEach(function (f, n) { form.append('frame', f, 'frame' + n + '.jpg'); });
        form.append('times', JSON.stringify(rec.times));
        form.append('challenge_id', ch.id);
        form.append('camera', cameraReport());
        return { body: form, headers: {} };
      });
    });
  }).then(function (upload) { cleanup(); return upload; }, function (err) { cleanup(); throw err; });
}
