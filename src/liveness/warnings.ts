/**
 * Liveness warnings in the Didit style: one catalogue of risks and the texts a reviewer reads.
 * The verifier adds `node_id`. LIVENESS_FACE_ATTACK and LOW_LIVENESS_SCORE are the Didit risks the
 * workflows act on (auto-decline / threshold); the others explain which signal fired.
 */
import type { LivenessWarning, LogType } from './types.ts';

const CATALOGUE: Record<string, { short: string; long: string }> = {
  LIVENESS_FACE_ATTACK: { short: 'Presentation attack suspected', long: 'The capture looks like a photo, a screen or a replayed video rather than a live person.' },
  LOW_LIVENESS_SCORE: { short: 'Low liveness score', long: 'The liveness score is below the workflow threshold.' },
  DEVICE_BORDER: { short: 'Device or paper border around the face', long: 'Straight edges of a phone, monitor or sheet of paper enclose the face, rather than a head and shoulders in a scene.' },
  SCREEN_MOIRE: { short: 'Screen pattern (moiré) detected', long: 'The face area shows periodic high-frequency energy of a pixel grid or halftone seen through the camera.' },
  SCREEN_GLARE: { short: 'Glare on a flat surface', long: 'A large clipped highlight lies over the face, as a reflection on a screen or glossy photo does.' },
  PRINT_LOOK: { short: 'Printed photo look', long: 'The face has the reduced colour gamut and contrast range of ink on paper.' },
  STATIC_BURST: { short: 'No motion in the burst', long: 'The face did not move at all during the capture burst; a live face always moves a little.' },
  FROZEN_FRAMES: { short: 'Frozen frames', long: 'All frames of the capture burst are identical: a still image injected as the camera (virtual camera) or a frozen stream.' },
  FLAT_MOTION: { short: 'Face moves as a flat plane', long: 'The motion of the face and its surroundings across the burst is explained by one flat plane, as a photo or screen moved in front of the camera.' },
  DEVICE_MOTION: { short: 'Face moves with a hand-held frame', long: 'Straight edges around the face (a phone, a sheet of paper) move together with the face against the room behind them, as a device or photo held in front of the camera does.' },
  FLASH_SEQUENCE_MISMATCH: { short: 'Reflected colours do not follow the challenge', long: 'The light reflected by the face does not follow the colour sequence shown on the screen, or follows it with the wrong timing.' },
  LIGHT_MISMATCH: { short: "The face is not lit by the screen's light", long: 'While the selfie was taken the screen changed brightness in a pattern chosen for this session; the face did not follow it as a face in front of the screen does (a picture on a screen barely reflects it), or the surroundings were lit as much as the face (a picture on paper).' },
  FLAT_SHADING: { short: 'Flat shading under the flash', long: 'The screen light reflected by the face is spread like on a flat surface, not with the shading of a 3D face (nose and cheeks).' },
  CHALLENGE_ORDER: { short: 'Head turns in the wrong order', long: 'The head-turn directions were not performed in the order the challenge asked for.' },
  CHALLENGE_TIMEOUT: { short: 'Challenge answered too late', long: 'The challenge was not completed within its time limits.' },
  CHALLENGE_INVALID: { short: 'Challenge response invalid', long: 'The challenge response is malformed, unknown, expired or does not belong to this session.' },
  CHALLENGE_REPLAYED: { short: 'Challenge response replayed', long: 'This challenge was already used; a challenge is valid for one response only.' },
  NO_3D_PARALLAX: { short: 'No 3D parallax during head turns', long: 'The landmarks moved as an affine warp of one flat picture instead of a 3D head turning.' },
  FACE_CHANGED: { short: 'Face changed during the challenge', long: 'The face during the challenge is not the same person throughout.' },
  CAPTURE_MISMATCH: { short: 'Still does not match the burst', long: 'The uploaded still is not the frame of the uploaded burst it claims to be (the capture was assembled from different sources).' },
  NO_FACE_DETECTED: { short: 'No face detected', long: 'No face was found in the capture.' },
};

export function livenessWarning(risk: string, logType: LogType, additional: Record<string, unknown> | null = null): LivenessWarning {
  const t = CATALOGUE[risk] ?? { short: risk, long: risk };
  return { feature: 'LIVENESS', risk, log_type: logType, short_description: t.short, long_description: t.long, additional_data: additional };
}

export const LIVENESS_RISKS = Object.keys(CATALOGUE);
