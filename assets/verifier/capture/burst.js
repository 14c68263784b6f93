// PASSIVE liveness: the burst of frames recorded when "Take selfie" is pressed, with no instruction
// (docs/liveness.md: what the capture page records). With screen light (the default) the press
// first asks for a single-use light pattern, and the burst takes its shape from it and shows it on
// the page's background (screen-light.js); without, the fixed burst below.
import { cameraReport, setExposureMode } from './camera.js';
import { fetchChallenge } from './challenge-request.js';
import { grab, STILL_WIDTH } from './frames.js';
import { setScreenLevel, startScreenLight, stopScreenLight } from './screen-light.js';
import { setRecording, viewfinder } from './states.js';

// Without screen light: 12 frames 80 ms apart, the still at frame 6. The screen-light pattern
// brings its own (today 18 frames 80 ms apart, the still at frame 9: src/liveness/challenge.ts).
var BURST_FRAMES = 12, BURST_INTERVAL_MS = 80, BURST_CAPTURE_INDEX = 6, BURST_WIDTH = 320;

// The burst as multipart form fields; `ch` (PASSIVE screen light) gives its shape and the light
// pattern shown during it. Frames are 320 px wide, JPEG 0.85; the still 640 px wide, JPEG 0.9.
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
      // The still is drawn right after the capture frame from the same stream, so the server can check it.
      pending.push(grab(BURST_WIDTH, 0.85).then(function (idx) { return function (b) { frames[idx] = b; }; }(i)));
      if (i === captureIndex) pending.push(grab(STILL_WIDTH, 0.9).then(function (b) { still = b; }));
      i++;
      // Screen light: pattern[i] from the moment frame i − 1 is taken; white after the last frame.
      if (ch) setScreenLevel(ch, i < count ? ch.pattern[i] : 1);
      // Each frame is timed from t0 (not from the previous timer), so late timers do not add up.
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

// The plain burst (screen light off for the workflow).
export function burstUpload() {
  return recordBurst(null).then(function (form) { return { body: form, headers: {} }; });
}

// The burst under screen light; resolves null when the challenge's answer was already shown.
export function screenLightUpload() {
  var locked = false;
  setRecording(true); // the live cues pause from the press
  if (viewfinder) viewfinder.classList.remove('good');
  startScreenLight();
  // Exposure and white balance locked (as for FLASHING) under the white rest level, asked for
  // while the challenge is on its way; released once the burst is taken.
  var lock = setExposureMode('manual').then(function (ok) { locked = ok; });
  function release() {
    setRecording(false);
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
