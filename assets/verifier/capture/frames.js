// Turning the camera stream into JPEGs: the single still of workflows without liveness, and the
// frames and stills that bursts and challenges upload. Sizes and qualities are part of the upload
// format the server checks (docs/liveness.md: what the capture page records).
import { config, video } from './states.js';

// The still the face match uses, in bursts and challenges alike.
export var STILL_WIDTH = 640;
var STILL_QUALITY = 0.9;

// The current camera frame drawn `width` px wide at the camera's aspect ratio (stills and frames alike).
export function drawVideo(width) {
  var canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = Math.round(width * video.videoHeight / video.videoWidth);
  canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
  return canvas;
}

export function encodeJpeg(canvas, quality) {
  return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', quality); });
}

export function grab(width, quality) {
  return encodeJpeg(drawVideo(width), quality);
}

// The challenges' still: 640 px wide at the camera's aspect ratio, JPEG 0.9 (as the PASSIVE still),
// 0.75 if that exceeds the upload limit.
export function grabStill() {
  var canvas = drawVideo(STILL_WIDTH);
  return encodeJpeg(canvas, STILL_QUALITY).then(function (blob) {
    if (blob && blob.size <= config.maxBytes) return blob;
    return encodeJpeg(canvas, 0.75).then(function (b) {
      if (b && b.size <= config.maxBytes) return b;
      throw new Error('still too large');
    });
  });
}

// ---- the single still (workflows without liveness): ≤ 1280 px, re-encoded smaller until it fits ----
function toJpeg(scale, quality) {
  var w = video.videoWidth, h = video.videoHeight;
  var s = Math.min(1, 1280 / Math.max(w, h)) * scale;
  var canvas = document.createElement('canvas');
  canvas.width = Math.round(w * s);
  canvas.height = Math.round(h * s);
  canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/jpeg', quality); });
}

export function captureJpeg() {
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
