// The hosted capture page's script (served by the verifier; no framework, no bundler, no third
// party). This is its entry: views/verifier/session.ejs loads it as a module (deferred: it runs
// once the page is parsed), and it imports the rest, one module per concern:
//   states.js              page states, texts, the cue, the retry message, the upload grant
//   camera.js              the camera: getUserMedia and its failures, live cues, camera report, exposure lock
//   frames.js              camera frames and stills as JPEG
//   handoff.js             the QR hand-off's status poll
//   screen-light.js        the page background as a light, and its photosensitivity check
//   burst.js               PASSIVE: the burst (with or without screen light)
//   challenge-request.js   asking for a challenge and refusing an unsafe one
//   challenge-recording.js FLASHING / ACTIVE_3D: performing the challenge while recording
//   upload.js              "Take selfie": the upload and its answers
// Browsers without modules run unsupported.js instead (nomodule): the QR hand-off.
//
// States: capture → processing → redirect to the callback (or done); denied, camera-busy,
// nocamera (QR code hand-off, polls until the phone finishes), unsupported, expired, error.
// What "Take selfie" uploads (multipart/form-data unless said; docs/verifier.md, docs/liveness.md):
// - PASSIVE with screen light (the default): the press first asks the server for a single-use
//   light pattern and takes the burst's shape from it — today 18 frames 80 ms apart (≈ 1.4 s),
//   the still at frame 9 — and during the burst switches the page around the viewfinder between
//   white and dark grey as it says; the upload names the challenge. No instruction is shown.
// - PASSIVE without screen light: a burst of 12 frames 80 ms apart, the still at frame 6.
//   Either burst: frames 320 px wide, JPEG 0.85; the still 640 px wide, JPEG 0.9, drawn right
//   after its frame; both at the camera's aspect ratio (320×240 and 640×480 for a 4:3 camera).
// - FLASHING and ACTIVE_3D: the press asks for a single-use challenge, shows it (full-screen
//   colours, or head-turn instructions under the mirrored preview) while recording frames
//   (frameWidth px wide, at its fps, at most 96) timed from its start, takes the still as part of
//   it, and uploads still + frames + times + challenge id.
// - Other workflows: one JPEG (≤ 1280 px, re-encoded smaller until ≤ 1 MB), as image/jpeg.
// Every multipart upload also carries the camera report (camera.js).
import { startCamera, stopCamera, supported } from './camera.js';
import { pollStatus } from './handoff.js';
import { config, configEl, show, takeButton } from './states.js';
import { takeSelfie } from './upload.js';

function main() {
  if (!configEl) return;

  // The state screens' buttons ("Try again") say what they do in data-action.
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
}

main();
