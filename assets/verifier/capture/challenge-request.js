// The server-chosen challenge (FLASHING, ACTIVE_3D, and PASSIVE with screen light): asking for it,
// and refusing one the page must not perform. The page checks what it is sent even though the
// server only issues safe challenges: a colour sequence faster than the photosensitivity notice
// promised, or a light pattern that flashes too often, is never shown whatever the answer says.
import { stopCamera } from './camera.js';
import { usableScreenLight } from './screen-light.js';
import { config, retry, show, uploadToken } from './states.js';

var FLASH_MIN_STEP_MS = 300;
// The cue text for each head-turn direction (texts from the server, in the page's language).
export var DIRECTION_TEXT = { left: 'activeLeft', right: 'activeRight', up: 'activeUp', down: 'activeDown' };
var challengeUrl = config.challengeUrl || (config.uploadUrl ? config.uploadUrl.replace(/\/capture$/, '/challenge') : '');

// Same as challengeDurationMs and flashColourAt in src/liveness/challenge.ts.
export function challengeDurationMs(ch) {
  if (ch.method !== 'FLASHING') return ch.totalTimeoutMs;
  var sum = 0;
  for (var i = 0; i < ch.steps.length; i++) sum += ch.steps[i].ms;
  return ch.leadInMs + sum + ch.maxLagMs;
}

export function flashColourAt(ch, t) {
  var edge = ch.leadInMs;
  if (t < edge) return [0, 0, 0];
  for (var i = 0; i < ch.steps.length; i++) {
    var s = ch.steps[i];
    if (t < edge + s.ms) return [s.rgb[0] / 255, s.rgb[1] / 255, s.rgb[2] / 255];
    edge += s.ms;
  }
  return [0, 0, 0];
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

// Resolves the challenge, or null once the answer has been shown (busy: try again; expired; stale:
// a newer page load holds the grant, so this one reloads). Anything else is an error.
export function fetchChallenge() {
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
