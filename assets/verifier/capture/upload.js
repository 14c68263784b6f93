// "Take selfie": what the press records for the workflow's liveness method, the one upload to
// the server with this page load's grant, and what each answer leads to.
import { burstUpload, screenLightUpload } from './burst.js';
import { stopCamera, stream } from './camera.js';
import { challengeUpload } from './challenge-recording.js';
import { captureJpeg } from './frames.js';
import { config, retry, retryEl, show, takeButton, uploadToken } from './states.js';

var busy = false;

// Resolves { body, headers } for the upload, or null when a challenge's answer was already shown.
function captureUpload() {
  if (config.liveness === 'PASSIVE' && config.screenLight) return screenLightUpload();
  if (config.liveness === 'PASSIVE') return burstUpload();
  if (config.liveness === 'FLASHING' || config.liveness === 'ACTIVE_3D') return challengeUpload();
  return captureJpeg().then(function (blob) { return { body: blob, headers: { 'Content-Type': 'image/jpeg' } }; });
}

function finish(body) {
  stopCamera();
  if (body.redirect) { window.location.assign(body.redirect); return; }
  var doneBody = document.getElementById('done-body');
  if (body.handoff && doneBody) doneBody.textContent = doneBody.getAttribute('data-handoff-text');
  show('done');
}

export function takeSelfie() {
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
