// The page's states and texts: which section is shown, the cue under the viewfinder, the retry
// message, and this page load's upload grant. Every other module goes through here to change what
// the user sees, so the rules for focus and for screen-reader announcements live in one place.
import { stopScreenLight } from './screen-light.js';

// The server renders the config (texts in the page's language, URLs, the grant) into the page as
// JSON; main.js does nothing without it.
export var configEl = document.getElementById('capture-config');
export var config = configEl ? JSON.parse(configEl.textContent || '{}') : {};
var texts = config.texts || {};

export var video = document.getElementById('video');
export var takeButton = document.getElementById('take');
export var cueEl = document.getElementById('cue');
export var retryEl = document.getElementById('retry-message');
export var viewfinder = video ? video.parentElement : null;

// The grant for the next request to the server; an answer asking for another try brings a new one.
export let uploadToken = config.uploadToken;

// True while a burst or a challenge is being recorded: the live cues pause then, and a challenge's
// instructions own the cue.
export let recording = false;
export function setRecording(on) { recording = on; }

var lastCue = '';

export function show(name, focus) {
  if (name !== 'processing') stopScreenLight(); // the light stays white while the selfie is checked
  var sections = document.querySelectorAll('section.state');
  for (var i = 0; i < sections.length; i++) sections[i].hidden = sections[i].id !== 'state-' + name;
  if (focus !== false) {
    var heading = document.querySelector('#state-' + name + ' h1');
    if (heading) heading.focus();
  }
}

export function setCue(key, good) {
  if (recording) return; // a challenge's instructions own the cue while it is shown
  var text = texts[key] || '';
  if (viewfinder) viewfinder.classList.toggle('good', !!good);
  // Only a change is announced, so screen readers are not flooded every few hundred ms.
  if (text && text !== lastCue) {
    lastCue = text;
    cueEl.textContent = text;
  }
}

// A challenge's instruction: always written (and so announced), even when it repeats the last cue.
export function announce(key) {
  lastCue = '';
  cueEl.textContent = texts[key] || '';
}

// After a challenge the next live cue is announced even if it is the one shown before it.
export function forgetCue() { lastCue = ''; }

// The server asked for another try (quality, or busy): say why and how many tries are left, and
// give the button back with the fresh grant.
export function retry(body) {
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
