// Didit-style warnings: one catalogue of risks with the texts a reviewer reads, so every step
// words the same risk the same way.
import type { Feature, LogType, Warning } from '../../didit/index.ts';

type Text = { short: string; long: string };

const CATALOGUE: Record<string, Text> = {
  NO_FACE_DETECTED: { short: 'No face detected', long: 'No face was found in the capture.' },
  MULTIPLE_FACES: { short: 'Multiple faces detected', long: 'More than one face of comparable size was found in the capture.' },
  LOW_FACE_QUALITY: { short: 'Low face quality', long: 'The face in the capture was too small, too dark, too bright, blurred or turned away.' },
  INVALID_IMAGE: { short: 'Invalid image', long: 'The capture could not be decoded as an image.' },
  NO_REFERENCE_IMAGE: { short: 'No reference image', long: 'No portrait_image was sent and no face is enrolled for this vendor_data, so there is nothing to match against.' },
  REFERENCE_UNUSABLE: {
    short: 'Reference face unusable',
    long: 'A face is enrolled for this vendor_data but could not be used (made by another face model version, or sealed with a key that is no longer configured); re-enrolment is needed.',
  },
  LOW_FACE_MATCH_SIMILARITY: { short: 'Low face match similarity', long: 'The captured face is not similar enough to the reference face.' },
  LOW_LIVENESS_SCORE: { short: 'Low liveness score', long: 'The liveness score is below the workflow threshold.' },
  LIVENESS_FACE_ATTACK: { short: 'Presentation attack suspected', long: 'The capture looks like a photo, a screen or a mask rather than a live person.' },
  LIVENESS_BURST_MISSING: {
    short: 'No liveness burst',
    long: 'Only a still was uploaded. A still alone cannot show a live person (a photo of a photo is a good still), so PASSIVE liveness needs the burst of frames the capture page records around it.',
  },
  LIVENESS_BURST_INVALID: { short: 'Liveness burst unusable', long: 'The burst of frames uploaded with the capture could not be decoded.' },
  LIVENESS_RECORDING_MISSING: {
    short: 'No challenge recording',
    long: 'Only a still was uploaded. FLASHING and ACTIVE_3D liveness need the recording of the challenge the capture page showed.',
  },
  LIVENESS_RECORDING_INVALID: { short: 'Challenge recording unusable', long: 'The frames of the challenge recording could not be decoded.' },
  LIVENESS_RECORDING_NO_FACE: { short: 'No face in the challenge recording', long: 'No face was found in the frames recorded during the liveness challenge.' },
  LIVENESS_OBSERVED: {
    short: 'Liveness observed, not enforced',
    long: "The workflow's liveness runs in observe mode: this result is reported for calibration, and only face match decided the session.",
  },
  VIRTUAL_CAMERA: {
    short: 'Virtual or missing camera',
    long: 'The capture did not come from a real camera stream: a known virtual camera, a stream that stopped or froze, or no camera report at all (a scripted upload). The reason is in additional_data.',
  },
  ALREADY_ENROLLED: {
    short: 'Already enrolled',
    long: 'This vendor_data already has an enrolled face (another enrolment came first). An enrolment never replaces one: delete the old one first.',
  },
  NOT_ENROLLED_NO_VENDOR_DATA: { short: 'Template not stored', long: 'The session has no vendor_data, so the enrolled face could not be stored for anyone.' },
};

export function warning(feature: Feature, risk: string, logType: LogType, nodeId: string, additional: Record<string, unknown> | null = null): Warning {
  const text = CATALOGUE[risk] ?? { short: risk, long: risk };
  return { feature, risk, additional_data: additional, log_type: logType, short_description: text.short, long_description: text.long, node_id: nodeId };
}
