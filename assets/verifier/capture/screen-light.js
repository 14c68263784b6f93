// PASSIVE screen light (docs/liveness.md): the page's background is the light, and this module is
// the only one that changes it. It imports nothing, so states.js can switch the light off whenever
// another state is shown without an import cycle.
//
// The card around the viewfinder turns transparent, so the whole viewport is white from the press
// (the level the face is used to before the burst), then white or dark grey per the pattern during
// the burst, white again after it, and the page's own colours once any other state than "checking"
// is shown. Text keeps full contrast on both colours (CSS: body.screen-light / .screen-dark); the
// viewfinder keeps its own black frame. The burst that drives it is in burst.js.
var SCREEN_REST = [255, 255, 255];
var screenLightOn = false;

function rgbCss(c) { return 'rgb(' + c[0] + ', ' + c[1] + ', ' + c[2] + ')'; }

export function startScreenLight() {
  screenLightOn = true;
  document.body.classList.add('screen-light');
  document.body.classList.remove('screen-dark');
  document.body.style.backgroundColor = rgbCss(SCREEN_REST);
}

export function setScreenLevel(ch, on) {
  if (!screenLightOn) return;
  document.body.style.backgroundColor = rgbCss(on ? ch.light : ch.dark);
  document.body.classList.toggle('screen-dark', !on);
}

export function stopScreenLight() {
  if (!screenLightOn) return;
  screenLightOn = false;
  document.body.classList.remove('screen-light', 'screen-dark');
  document.body.style.backgroundColor = '';
}

// The page's own photosensitivity check, whatever the server sent: 0/1 per frame, 2–18 frames (the
// burst's limits), and never more than 6 changes (3 flashes, WCAG 2.3.1) in any second, counting the
// change from the white page to pattern[0] and back to white after the last frame (change k comes
// when pattern[k] is shown, k intervals in).
export function usableScreenLight(ch) {
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
