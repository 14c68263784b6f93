// The hosted capture page's only script (served by the verifier; no framework, no third party).
// States: capture → processing → redirect to the callback (or done); denied, camera-busy,
// nocamera (QR code hand-off, polls until the phone finishes), unsupported, expired, error.
// Workflows with PASSIVE liveness: pressing "Take selfie" records a burst of 12 frames 80 ms apart
// (320×240, JPEG 0.85) with the 640×480 still taken at frame 6, and uploads them together as
// multipart/form-data (docs/verifier.md); no instruction is shown. With screen light (config
// screenLight) the press first asks the server for a single-use light pattern and, during the
// burst, switches the page around the viewfinder between white and dark grey as it says; the upload
// names the challenge. FLASHING and ACTIVE_3D: the press
// asks the server for a single-use challenge, shows it (full-screen colours, or head-turn
// instructions under the mirrored preview) while recording frames timed from its start, takes the
// still as part of it, and uploads still + frames + times + challenge id the same way. Other
// workflows upload one JPEG.
(function () {
  'use strict';

  var configEl = document.getElementById('capture-config');
  if (!configEl) return;
  var config = JSON.parse(configEl.textContent || '{}');
  var texts = config.texts || {};
  var uploadToken = config.uploadToken;
  var video = document.getElementById('video');
  var takeButton = document.getElementById('take');
  var cueEl = document.getElementById('cue');
  var retryEl = document.getElementById('retry-message');
  var viewfinder = video ? video.parentElement : null;
  var stream = null;
  var cueTimer = null;
  var pollTimer = null;
  var lastCue = '';
  var busy = false;
  var faceDetector = null;
  var recording = false;
  var reducedMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  function show(name, focus) {
    if (name !== 'processing') stopScreenLight(); // the light stays white while the selfie is checked
    var sections = document.querySelectorAll('section.state');
    for (var i = 0; i < sections.length; i++) sections[i].hidden = sections[i].id !== 'state-' + name;
    if (focus !== false) {
      var heading = document.querySelector('#state-' + name + ' h1');
      if (heading) heading.focus();
    }
  }

  function setCue(key, good) {
    if (recording) return; // a challenge's instructions own the cue while it is shown
    var text = texts[key] || '';
    if (viewfinder) viewfinder.classList.toggle('good', !!good);
    // Only a change is announced, so screen readers are not flooded every few hundred ms.
    if (text && text !== lastCue) {
      lastCue = text;
      cueEl.textContent = text;
    }
  }

  function supported() {
    return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.fetch && window.Promise && HTMLCanvasElement.prototype.toBlob);
  }

  function stopCamera() {
    if (cueTimer) clearInterval(cueTimer);
    cueTimer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
  }

  // ---- hand-off: the page that shows the QR code moves on when the phone has finished ----
  function pollStatus() {
    if (pollTimer) return;
    pollTimer = setInterval(function () {
      fetch(config.statusUrl + (config.handoff ? '?handoff=1' : ''), { cache: 'no-store' })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (!s.finished) return;
          clearInterval(pollTimer);
          if (s.redirect) window.location.assign(s.redirect);
          else if (s.status === 'Approved' || s.status === 'Declined' || s.status === 'In Review') show('done');
          else show('expired');
        })
        .catch(function () { /* keep polling */ });
    }, 3000);
  }

  // ---- camera ----
  function cameraFailed(err) {
    var name = err && err.name;
    if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') show('denied');
    else if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') { show('nocamera'); pollStatus(); }
    else if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') show('camera-busy');
    else { show('unsupported'); pollStatus(); }
  }

  function hasVideoInput() {
    if (!navigator.mediaDevices.enumerateDevices) return Promise.resolve(true);
    return navigator.mediaDevices.enumerateDevices().then(function (devices) {
      return devices.some(function (d) { return d.kind === 'videoinput'; });
    }, function () { return true; });
  }

  function cameraConstraints() {
    return { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } };
  }

  function startCamera() {
    show('capture', false);
    takeButton.disabled = true;
    hasVideoInput().then(function (present) {
      if (!present) { show('nocamera'); pollStatus(); return; }
      return navigator.mediaDevices.getUserMedia({
        audio: false,
        video: cameraConstraints(),
      }).then(function (s) {
        stream = s;
        video.srcObject = s;
        return video.play().catch(function () { /* autoplay rules: muted inline video plays anyway */ });
      }).then(function () {
        if (!stream) return;
        show('capture');
        takeButton.disabled = false;
        setCue('cueFit');
        if ('FaceDetector' in window) {
          try { faceDetector = new window.FaceDetector({ fastMode: true, maxDetectedFaces: 2 }); } catch (e) { faceDetector = null; }
        }
        cueTimer = setInterval(checkFrame, reducedMotion ? 800 : 400);
      }, cameraFailed);
    });
  }

  // ---- live cues: lighting from a tiny copy of the frame; position when the browser can detect faces ----
  var probe = document.createElement('canvas');
  probe.width = 64;
  probe.height = 48;
  var probeCtx = probe.getContext('2d', { willReadFrequently: true });

  function lighting() {
    if (!video.videoWidth) return null;
    probeCtx.drawImage(video, 0, 0, 64, 48);
    var px = probeCtx.getImageData(0, 0, 64, 48).data;
    var inSum = 0, inN = 0, outSum = 0, outN = 0;
    for (var y = 0; y < 48; y++) {
      for (var x = 0; x < 64; x++) {
        var i = (y * 64 + x) * 4;
        var lum = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
        var dx = (x - 32) / 14, dy = (y - 23.5) / 18;
        if (dx * dx + dy * dy <= 1) { inSum += lum; inN++; } else { outSum += lum; outN++; }
      }
    }
    return { face: inSum / inN, around: outSum / outN };
  }

  function checkFrame() {
    if (recording) return;
    var light = lighting();
    if (!light) return;
    if (light.face < 55) return setCue('cueTooDark');
    if (light.face > 230) return setCue('cueTooBright');
    if (light.around - light.face > 50 && light.around > 170) return setCue('cueBacklit');
    if (!faceDetector) return setCue('cueFit');
    faceDetector.detect(video).then(function (faces) {
      if (!faces.length) return setCue('cueNoFace');
      var box = faces[0].boundingBox;
      var w = box.width / video.videoWidth;
      var cx = (box.x + box.width / 2) / video.videoWidth - 0.5;
      var cy = (box.y + box.height / 2) / video.videoHeight - 0.5;
      if (w < 0.22) return setCue('cueCloser');
      if (w > 0.7) return setCue('cueFarther');
      if (Math.abs(cx) > 0.15 || Math.abs(cy) > 0.18) return setCue('cueCentre');
      setCue('cueGood', true);
    }, function () { faceDetector = null; });
  }

  // ---- capture and upload ----
  function toJpeg(scale, quality) {
    var w = video.videoWidth, h = video.videoHeight;
    var s = Math.min(1, 1280 / Math.max(w, h)) * scale;
    var canvas = document.createElement('canvas');
    canvas.width = Math.round(w * s);
    canvas.height = Math.round(h * s);
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', quality); });
  }

  function captureJpeg() {
    var attempts = [[1, 0.9], [1, 0.75], [0.75, 0.75], [0.5, 0.7]];
    function next(i) {
      return toJpeg(attempts[i][0], attempts[i][1]).then(function (blob) {
        if (blob && blob.size <= config.maxBytes) return blob;
        if (i + 1 < attempts.length) return next(i + 1);
        throw new Error('capture too large');
      });
    }
    return next(0);
  }

  function retry(body) {
    uploadToken = body.upload_token || uploadToken;
    var key = body.outcome === 'busy' ? 'busy' : body.reason === 'no_face' ? 'retryNoFace' : body.reason === 'multiple_faces' ? 'retryMultiple' : 'retryQuality';
    var text = texts[key] || '';
    if (typeof body.attempts_left === 'number') text += ' ' + (texts.attemptsLeft || '').replace('{n}', String(body.attempts_left));
    retryEl.textContent = text;
    retryEl.hidden = false;
    show('capture');
    takeButton.disabled = false;
    takeButton.focus();
  }

  function finish(body) {
    stopCamera();
    if (body.redirect) { window.location.assign(body.redirect); return; }
    var doneBody = document.getElementById('done-body');
    if (body.handoff && doneBody) doneBody.textContent = doneBody.getAttribute('data-handoff-text');
    show('done');
  }

  // ---- PASSIVE burst (docs/liveness.md: what the capture page records) ----
  var BURST_FRAMES = 12, BURST_INTERVAL_MS = 80, BURST_CAPTURE_INDEX = 6, BURST_WIDTH = 320, STILL_WIDTH = 640;

  // The current camera frame drawn `width` px wide at the camera's aspect ratio (stills and frames alike).
  function drawVideo(width) {
    var canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = Math.round(width * video.videoHeight / video.videoWidth);
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function encodeJpeg(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', quality); });
  }

  function grab(width, quality) {
    return encodeJpeg(drawVideo(width), quality);
  }

  // The burst; `ch` (PASSIVE screen light) gives its shape and the light pattern shown during it.
  function recordBurst(ch) {
    var count = ch ? ch.frames : BURST_FRAMES;
    var interval = ch ? ch.intervalMs : BURST_INTERVAL_MS;
    var captureIndex = ch ? ch.captureIndex : BURST_CAPTURE_INDEX;
    return new Promise(function (resolve, reject) {
      var frames = [], times = [], pending = [], still = null, t0 = 0, i = 0;
      function tick() {
        var now = performance.now();
        if (i === 0) t0 = now;
        times.push(Math.round(now - t0));
        // The still is drawn right after the capture frame (6) from the same stream, so the server can check it.
        pending.push(grab(BURST_WIDTH, 0.85).then(function (idx) { return function (b) { frames[idx] = b; }; }(i)));
        if (i === captureIndex) pending.push(grab(STILL_WIDTH, 0.9).then(function (b) { still = b; }));
        i++;
        // Screen light: pattern[i] from the moment frame i − 1 is taken; white after the last frame.
        if (ch) setScreenLevel(ch, i < count ? ch.pattern[i] : 1);
        if (i < count) { setTimeout(guarded, Math.max(0, t0 + i * interval - performance.now())); return; }
        Promise.all(pending).then(function () {
          if (!still || frames.some(function (f) { return !f; })) return reject(new Error('burst encoding failed'));
          var form = new FormData();
          form.append('still', still, 'still.jpg');
          frames.forEach(function (f, n) { form.append('frame', f, 'frame' + n + '.jpg'); });
          form.append('times', JSON.stringify(times));
          form.append('capture_index', String(captureIndex));
          if (ch) form.append('challenge_id', ch.id);
          form.append('camera', cameraReport());
          resolve(form);
        }, reject);
      }
      function guarded() {
        try { tick(); } catch (e) { reject(e); }
      }
      if (!ch) return guarded();
      // pattern[0] is shown one interval before frame 0 (painted and reaching the face by then).
      setScreenLevel(ch, ch.pattern[0]);
      setTimeout(guarded, interval);
    });
  }

  // ---- PASSIVE screen light (docs/liveness.md) ----
  // The page's background is the light: the card around the viewfinder turns transparent, so the
  // whole viewport is white from the press (the level the face is used to before the burst), then
  // white or dark grey per the pattern during the burst, white again after it, and the page's own
  // colours once any other state than "checking" is shown. Text keeps full contrast on both colours
  // (CSS: body.screen-light / .screen-dark); the viewfinder keeps its own black frame.
  var SCREEN_REST = [255, 255, 255];
  var screenLightOn = false;

  function rgbCss(c) { return 'rgb(' + c[0] + ', ' + c[1] + ', ' + c[2] + ')'; }

  function startScreenLight() {
    screenLightOn = true;
    document.body.classList.add('screen-light');
    document.body.classList.remove('screen-dark');
    document.body.style.backgroundColor = rgbCss(SCREEN_REST);
  }

  function setScreenLevel(ch, on) {
    if (!screenLightOn) return;
    document.body.style.backgroundColor = rgbCss(on ? ch.light : ch.dark);
    document.body.classList.toggle('screen-dark', !on);
  }

  function stopScreenLight() {
    if (!screenLightOn) return;
    screenLightOn = false;
    document.body.classList.remove('screen-light', 'screen-dark');
    document.body.style.backgroundColor = '';
  }

  function screenLightUpload() {
    var locked = false;
    recording = true; // the live cues pause from the press
    if (viewfinder) viewfinder.classList.remove('good');
    startScreenLight();
    // Exposure and white balance locked (as for FLASHING) under the white rest level, asked for
    // while the challenge is on its way; released once the burst is taken.
    var lock = setExposureMode('manual').then(function (ok) { locked = ok; });
    function release() {
      recording = false;
      if (locked) setExposureMode('continuous');
      locked = false;
    }
    return Promise.all([fetchChallenge(), lock]).then(function (r) {
      var ch = r[0];
      if (!ch) return null; // busy, expired or stale: already shown
      return recordBurst(ch).then(function (form) { return { body: form, headers: {} }; });
    }).then(function (upload) {
      release();
      if (!upload) stopScreenLight();
      return upload;
    }, function (err) {
      stopScreenLight();
      // (the lock may still be on its way when the challenge request fails)
      return lock.then(function () { release(); throw err; });
    });
  }

  // ---- FLASHING and ACTIVE_3D challenges (docs/liveness.md: what the capture page records) ----
  // The server stamps the challenge when it answers, so the sequence starts as soon as the answer
  // arrives; t0 is when its first thing (black lead-in / "look straight at the camera") is shown,
  // and every frame's t is from t0. The still the face match uses is part of the same performance,
  // drawn at the end of the lead-in: looking straight at the camera (ACTIVE_3D), not yet under a
  // coloured screen (FLASHING).
  var CHALLENGE_MAX_FRAMES = 96, CHALLENGE_FRAME_MAX_BYTES = 100 * 1024;
  var CHALLENGE_QUALITY = 0.85, CHALLENGE_MIN_QUALITY = 0.1, STILL_QUALITY = 0.9;
  var FLASH_MIN_STEP_MS = 300;
  var ACTIVE_BACK_AFTER_MS = 1200; // "now look back at the camera" this long after each instruction
  var DIRECTION_TEXT = { left: 'activeLeft', right: 'activeRight', up: 'activeUp', down: 'activeDown' };
  var captureSection = document.getElementById('state-capture');
  var flashOverlay = document.getElementById('flash-overlay');
  var flashVideo = document.getElementById('flash-video');
  var flashText = document.getElementById('flash-text');
  var directionEl = document.getElementById('direction');
  var challengeUrl = config.challengeUrl || (config.uploadUrl ? config.uploadUrl.replace(/\/capture$/, '/challenge') : '');

  // Same as challengeDurationMs and flashColourAt in src/liveness/challenge.ts.
  function challengeDurationMs(ch) {
    if (ch.method !== 'FLASHING') return ch.totalTimeoutMs;
    var sum = 0;
    for (var i = 0; i < ch.steps.length; i++) sum += ch.steps[i].ms;
    return ch.leadInMs + sum + ch.maxLagMs;
  }

  function flashColourAt(ch, t) {
    var edge = ch.leadInMs;
    if (t < edge) return [0, 0, 0];
    for (var i = 0; i < ch.steps.length; i++) {
      var s = ch.steps[i];
      if (t < edge + s.ms) return [s.rgb[0] / 255, s.rgb[1] / 255, s.rgb[2] / 255];
      edge += s.ms;
    }
    return [0, 0, 0];
  }

  // Screen light: 0/1 per frame, 2–18 frames (the burst's limits), and never more than 6 changes
  // (3 flashes, WCAG 2.3.1) in any second, counting the change from the white page to pattern[0] and
  // back to white after the last frame (change k comes when pattern[k] is shown, k intervals in).
  function usableScreenLight(ch) {
    function rgb(c) { return Array.isArray(c) && c.length === 3 && c.every(function (v) { return v >= 0 && v <= 255; }); }
    var p = ch.pattern;
    if (!Array.isArray(p) || !Number.isInteger(ch.frames) || !(ch.frames >= 2 && ch.frames <= 18) || p.length !== ch.frames) return false;
    if (!(ch.intervalMs >= 40 && ch.intervalMs <= 500) || !Number.isInteger(ch.captureIndex) || !(ch.captureIndex >= 0 && ch.captureIndex < ch.frames)) return false;
    if (!rgb(ch.light) || !rgb(ch.dark)) return false;
    var seen = [1].concat(p, [1]), changes = [];
    for (var i = 0; i < p.length; i++) if (p[i] !== 0 && p[i] !== 1) return false;
    for (var k = 0; k + 1 < seen.length; k++) if (seen[k] !== seen[k + 1]) changes.push(k * ch.intervalMs);
    for (var a = 0; a < changes.length; a++) {
      var c = 0;
      for (var b = a; b < changes.length && changes[b] - changes[a] <= 1000; b++) c++;
      if (c > 6) return false;
    }
    return true;
  }

  function usableChallenge(ch) {
    if (!ch || typeof ch.id !== 'string') return false;
    if (ch.method === 'PASSIVE') return config.liveness === 'PASSIVE' && usableScreenLight(ch);
    if (!(ch.fps > 0) || !(ch.frameWidth > 0) || !Array.isArray(ch.steps)) return false;
    // Never faster than the 300–500 ms per colour the notice was written for (photosensitivity).
    if (ch.method === 'FLASHING') return ch.steps.every(function (s) { return s && s.ms >= FLASH_MIN_STEP_MS && s.rgb && s.rgb.length === 3; }) && challengeDurationMs(ch) > 0;
    if (ch.method === 'ACTIVE_3D') return ch.steps.every(function (s) { return s && DIRECTION_TEXT.hasOwnProperty(s.direction) && s.atMs >= 0; }) && ch.totalTimeoutMs > 0;
    return false;
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // The still: 640 px wide at the camera's aspect ratio, JPEG 0.9 (as the PASSIVE still).
  function grabStill() {
    var canvas = drawVideo(STILL_WIDTH);
    return encodeJpeg(canvas, STILL_QUALITY).then(function (blob) {
      if (blob && blob.size <= config.maxBytes) return blob;
      return encodeJpeg(canvas, 0.75).then(function (b) {
        if (b && b.size <= config.maxBytes) return b;
        throw new Error('still too large');
      });
    });
  }

  // Exposure and white balance are locked for FLASHING where the browser allows (auto-exposure
  // fighting the flash lowers the response). Only the modes the camera reports are asked for (Chrome
  // refuses the whole set for one it lacks), and the camera's own constraints are repeated
  // (applyConstraints replaces the whole set). Failures, and cameras that cannot, are ignored.
  function videoTrack() {
    return stream && stream.getVideoTracks ? stream.getVideoTracks()[0] || null : null;
  }

  // What the verifier's injection check reads (VIRTUAL_CAMERA): the track's label and state, and
  // the few settings that describe the stream. Nothing that identifies the device (no deviceId).
  function cameraReport() {
    var track = videoTrack();
    if (!track) return JSON.stringify({ label: '', readyState: 'none' });
    var settings = {};
    try {
      var all = track.getSettings ? track.getSettings() : {};
      ['width', 'height', 'frameRate', 'facingMode', 'resizeMode'].forEach(function (k) { if (all[k] !== undefined) settings[k] = all[k]; });
    } catch (e) { settings = {}; }
    return JSON.stringify({ label: String(track.label || ''), readyState: String(track.readyState || ''), muted: !!track.muted, settings: settings });
  }

  function exposureConstraints(mode) {
    var track = videoTrack();
    if (!track || !track.applyConstraints) return null;
    var caps = null, out = cameraConstraints(), set = {}, any = false;
    try { caps = track.getCapabilities ? track.getCapabilities() : null; } catch (e) { caps = null; }
    ['exposureMode', 'whiteBalanceMode'].forEach(function (k) {
      if (!caps || (caps[k] && caps[k].indexOf && caps[k].indexOf(mode) >= 0)) { set[k] = mode; any = true; }
    });
    if (!any) return null;
    out.advanced = [set];
    return out;
  }

  function setExposureMode(mode) {
    var track = videoTrack(), constraints = exposureConstraints(mode), p;
    if (!constraints) return Promise.resolve(false);
    try { p = Promise.resolve(track.applyConstraints(constraints)); } catch (e) { return Promise.resolve(false); }
    // Waits at most 700 ms; resolves true when a change was asked for (to be undone afterwards).
    return Promise.race([p.catch(function () { /* ignored */ }), wait(700)]).then(function () { return true; });
  }

  function fetchChallenge() {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, 30000) : null;
    return fetch(challengeUrl, {
      method: 'POST',
      headers: { 'X-Upload-Token': uploadToken },
      cache: 'no-store',
      signal: controller ? controller.signal : undefined,
    }).then(function (res) {
      if (timer) clearTimeout(timer);
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (res.ok && body.challenge && usableChallenge(body.challenge)) return body.challenge;
        if (res.status === 409 || body.outcome === 'stale') { window.location.reload(); return null; }
        if (res.status === 410 || body.outcome === 'expired') { stopCamera(); show('expired'); return null; }
        if (res.status === 503 || body.outcome === 'busy') {
          body.outcome = 'busy';
          retry(body);
          return null;
        }
        throw new Error('challenge refused');
      });
    });
  }

  function announce(key) {
    lastCue = '';
    cueEl.textContent = texts[key] || '';
  }

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
    recording = false;
    lastCue = '';
    setCue('cueFit');
  }

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

  function challengeUpload() {
    var flashing = config.liveness === 'FLASHING';
    var locked = false, cleaned = false;
    recording = true; // the live cues pause from the press
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

  function captureUpload() {
    if (config.liveness === 'PASSIVE' && config.screenLight) return screenLightUpload();
    if (config.liveness === 'PASSIVE') return recordBurst(null).then(function (form) { return { body: form, headers: {} }; });
    if (config.liveness === 'FLASHING' || config.liveness === 'ACTIVE_3D') return challengeUpload();
    return captureJpeg().then(function (blob) { return { body: blob, headers: { 'Content-Type': 'image/jpeg' } }; });
  }

  function takeSelfie() {
    if (busy || !stream) return;
    busy = true;
    takeButton.disabled = true;
    retryEl.hidden = true;
    captureUpload().then(function (upload) {
      if (!upload) return; // the challenge request's answer was already shown (busy, expired, stale)
      show('processing');
      var controller = window.AbortController ? new AbortController() : null;
      var timer = controller ? setTimeout(function () { controller.abort(); }, 30000) : null;
      var headers = upload.headers;
      headers['X-Upload-Token'] = uploadToken;
      return fetch(config.uploadUrl, {
        method: 'POST',
        headers: headers,
        body: upload.body,
        signal: controller ? controller.signal : undefined,
      }).then(function (res) {
        if (timer) clearTimeout(timer);
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (res.ok && body.outcome === 'complete') return finish(body);
          if (body.outcome === 'retry' || body.outcome === 'busy') return retry(body);
          if (res.status === 410 || body.outcome === 'expired') { stopCamera(); return show('expired'); }
          if (res.status === 409) { window.location.reload(); return; }
          stopCamera();
          show('error');
        });
      });
    }).catch(function () {
      stopCamera();
      show('error');
    }).then(function () { busy = false; });
  }

  // ---- wiring ----
  document.addEventListener('click', function (e) {
    var action = e.target && e.target.getAttribute && e.target.getAttribute('data-action');
    if (action === 'retry-camera') startCamera();
    if (action === 'reload') window.location.reload();
  });

  if (config.state !== 'capture') return;
  // Before the press: FLASHING users are warned that the screen will flash; ACTIVE_3D users that
  // they will be asked to turn their head. The button keeps its name and gets the notice as description.
  var notice = document.getElementById(config.liveness === 'FLASHING' ? 'flash-notice' : config.liveness === 'ACTIVE_3D' ? 'active-notice' : '');
  if (notice) {
    notice.hidden = false;
    takeButton.setAttribute('aria-describedby', notice.id);
  }
  takeButton.addEventListener('click', takeSelfie);
  window.addEventListener('pagehide', stopCamera);
  if (!supported()) { show('unsupported'); pollStatus(); return; }
  startCamera();
})();
