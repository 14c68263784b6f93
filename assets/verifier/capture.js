// The hosted capture page's only script (served by the verifier; no framework, no third party).
// States: capture → processing → redirect to the callback (or done); denied, camera-busy,
// nocamera (QR code hand-off, polls until the phone finishes), unsupported, expired, error.
// Workflows with PASSIVE liveness: pressing "Take selfie" records a burst of 12 frames 80 ms apart
// (320×240, JPEG 0.85) with the 640×480 still taken at frame 6, and uploads them together as
// multipart/form-data (docs/verifier.md); no instruction is shown. Other workflows upload one JPEG.
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
  var reducedMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  function show(name, focus) {
    var sections = document.querySelectorAll('section.state');
    for (var i = 0; i < sections.length; i++) sections[i].hidden = sections[i].id !== 'state-' + name;
    if (focus !== false) {
      var heading = document.querySelector('#state-' + name + ' h1');
      if (heading) heading.focus();
    }
  }

  function setCue(key, good) {
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

  function startCamera() {
    show('capture', false);
    takeButton.disabled = true;
    hasVideoInput().then(function (present) {
      if (!present) { show('nocamera'); pollStatus(); return; }
      return navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } },
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

  function grab(width, quality) {
    var w = video.videoWidth, h = video.videoHeight;
    var canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = Math.round(width * h / w); // same aspect ratio for the still and the frames
    canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', quality); });
  }

  function recordBurst() {
    return new Promise(function (resolve, reject) {
      var frames = [], times = [], pending = [], still = null, t0 = 0, i = 0;
      function tick() {
        var now = performance.now();
        if (i === 0) t0 = now;
        times.push(Math.round(now - t0));
        // The still is drawn right after frame 6 from the same stream, so the server can check it.
        pending.push(grab(BURST_WIDTH, 0.85).then(function (idx) { return function (b) { frames[idx] = b; }; }(i)));
        if (i === BURST_CAPTURE_INDEX) pending.push(grab(STILL_WIDTH, 0.9).then(function (b) { still = b; }));
        i++;
        if (i < BURST_FRAMES) { setTimeout(tick, Math.max(0, t0 + i * BURST_INTERVAL_MS - performance.now())); return; }
        Promise.all(pending).then(function () {
          if (!still || frames.some(function (f) { return !f; })) return reject(new Error('burst encoding failed'));
          var form = new FormData();
          form.append('still', still, 'still.jpg');
          frames.forEach(function (f, n) { form.append('frame', f, 'frame' + n + '.jpg'); });
          form.append('times', JSON.stringify(times));
          form.append('capture_index', String(BURST_CAPTURE_INDEX));
          resolve(form);
        }, reject);
      }
      tick();
    });
  }

  function captureUpload() {
    if (config.liveness === 'PASSIVE') return recordBurst().then(function (form) { return { body: form, headers: {} }; });
    return captureJpeg().then(function (blob) { return { body: blob, headers: { 'Content-Type': 'image/jpeg' } }; });
  }

  function takeSelfie() {
    if (busy || !stream) return;
    busy = true;
    takeButton.disabled = true;
    retryEl.hidden = true;
    captureUpload().then(function (upload) {
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
  takeButton.addEventListener('click', takeSelfie);
  window.addEventListener('pagehide', stopCamera);
  if (!supported()) { show('unsupported'); pollStatus(); return; }
  startCamera();
})();
