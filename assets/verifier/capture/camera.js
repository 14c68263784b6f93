// The camera and its stream: asking for the front camera (and which state to show when that
// fails), the live cues while the user frames their face, and what the page tells the server about
// the track (the camera report) or asks of it (the exposure lock).
import { pollStatus } from './handoff.js';
import { setCue, show, takeButton, recording, video } from './states.js';

// The stream while the camera is on; read (live binding) by the modules that record from it.
export let stream = null;
var cueTimer = null;
var faceDetector = null;
var reducedMotion = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

// Everything the page needs; a browser without it gets the QR hand-off instead (main.js).
export function supported() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.fetch && window.Promise && HTMLCanvasElement.prototype.toBlob);
}

export function stopCamera() {
  if (cueTimer) clearInterval(cueTimer);
  cueTimer = null;
  if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
  stream = null;
}

// Each getUserMedia failure has its own screen: denied (how to allow it), no camera and anything
// unknown (the QR hand-off), camera in use by another program.
function cameraFailed(err) {
  var name = err && err.name;
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') show('denied');
  else if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') { show('nocamera'); pollStatus(); }
  else if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') show('camera-busy');
  else { show('unsupported'); pollStatus(); }
}

// Without a camera at all, go straight to the hand-off rather than ask for permission in vain.
function hasVideoInput() {
  if (!navigator.mediaDevices.enumerateDevices) return Promise.resolve(true);
  return navigator.mediaDevices.enumerateDevices().then(function (devices) {
    return devices.some(function (d) { return d.kind === 'videoinput'; });
  }, function () { return true; });
}

function cameraConstraints() {
  return { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } };
}

export function startCamera() {
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

// Mean luminance inside the oval (the face) and around it, on a 64×48 copy of the frame.
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

// ---- the track: what the server is told, and the exposure lock ----
function videoTrack() {
  return stream && stream.getVideoTracks ? stream.getVideoTracks()[0] || null : null;
}

// What the verifier's injection check reads (VIRTUAL_CAMERA): the track's label and state, and
// the few settings that describe the stream. Nothing that identifies the device (no deviceId).
// Frozen or replayed streams are judged on the server from the frames themselves (FROZEN_FRAMES,
// STATIC_BURST); the page only reports.
export function cameraReport() {
  var track = videoTrack();
  if (!track) return JSON.stringify({ label: '', readyState: 'none' });
  var settings = {};
  try {
    var all = track.getSettings ? track.getSettings() : {};
    ['width', 'height', 'frameRate', 'facingMode', 'resizeMode'].forEach(function (k) { if (all[k] !== undefined) settings[k] = all[k]; });
  } catch (e) { settings = {}; }
  return JSON.stringify({ label: String(track.label || ''), readyState: String(track.readyState || ''), muted: !!track.muted, settings: settings });
}

// Exposure and white balance are locked for FLASHING and the screen light where the browser allows
// (auto-exposure fighting the light lowers the response). Only the modes the camera reports are
// asked for (Chrome refuses the whole set for one it lacks), and the camera's own constraints are
// repeated (applyConstraints replaces the whole set). Failures, and cameras that cannot, are ignored.
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

function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

export function setExposureMode(mode) {
  var track = videoTrack(), constraints = exposureConstraints(mode), p;
  if (!constraints) return Promise.resolve(false);
  try { p = Promise.resolve(track.applyConstraints(constraints)); } catch (e) { return Promise.resolve(false); }
  // Waits at most 700 ms; resolves true when a change was asked for (to be undone afterwards).
  return Promise.race([p.catch(function () { /* ignored */ }), wait(700)]).then(function () { return true; });
}
