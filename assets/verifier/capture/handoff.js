// The QR-code hand-off: a page that cannot use a camera (none, or an unsupported browser) shows
// the session's URL as a QR code and polls the session's status, so it moves on by itself when the
// phone has finished. A separate module because camera.js starts the poll, and upload.js (which
// needs the camera) must not be imported by it.
import { config, show } from './states.js';

var pollTimer = null;

export function pollStatus() {
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
