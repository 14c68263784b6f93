/**
 * Server-chosen, single-use liveness challenges.
 *
 *  const ch = createChallenge('FLASHING');          // or 'ACTIVE_3D'; crypto-random by default
 *  store ch with the session (server side);         // bound to the session, never trusted from the client
 *  send publicChallenge(ch) to the capture page;    // what to display / ask, and the frame rate to record
 *  on upload: checkChallengeUse(ch, { used, now }) // expired, replayed → refusal (and marks it used)
 *             then validateFlashing / validateActive3d on the recorded frames.
 *
 * Timestamps in a recording are milliseconds from the moment the page started the challenge
 * (first colour shown / first instruction shown), taken with performance.now() on the page.
 */
import { cryptoRng, pick, uniform, type Rng } from './rng.ts';
import { CHALLENGES_PER_SESSION, randomScreenPattern, SCREEN_PATTERN, SESSION_CHANCE } from './signals/screen-light.ts';

export { CHALLENGES_PER_SESSION, SESSION_CHANCE };
import type { LivenessMethod, LivenessWarning } from './types.ts';
import { livenessWarning } from './warnings.ts';

export const FLASH_PALETTE = {
  red: [255, 0, 0],
  green: [0, 255, 0],
  blue: [0, 0, 255],
  yellow: [255, 255, 0],
  cyan: [0, 255, 255],
  magenta: [255, 0, 255],
  white: [255, 255, 255],
} as const satisfies Record<string, readonly [number, number, number]>;
export type FlashColour = keyof typeof FLASH_PALETTE;

/**
 * FLASHING colour sets issued have at least this many valid orders (no colour twice in a row): see
 * flashOrders. 3,000: the top rank alone is then within 1/3,000 per challenge (a session's 1 in
 * 1,000 over CHALLENGES_PER_SESSION challenges), which leaves the 7 colours once each (5,040 orders);
 * a colour twice gives 1,800.
 */
export const FLASH_MIN_ORDERS = 3000;

export type Direction = 'left' | 'right' | 'up' | 'down';

interface ChallengeBase {
  v: 1;
  /** 128-bit random id (base64url). */
  id: string;
  /** Server time (ms since epoch) when issued, and after which an answer is refused. */
  issuedAt: number;
  expiresAt: number;
  /** Frames the page should record per second, and their size. */
  fps: number;
  frameWidth: number;
  frameHeight: number;
}

export interface FlashingChallenge extends ChallengeBase {
  method: 'FLASHING';
  /** Screen stays black (the baseline) for this long before the first colour. */
  leadInMs: number;
  steps: Array<{ colour: FlashColour; rgb: readonly [number, number, number]; ms: number }>;
  /** Camera + display latency accepted between a colour being shown and seen on the face. */
  maxLagMs: number;
}

export interface Active3dChallenge extends ChallengeBase {
  method: 'ACTIVE_3D';
  /** Hold still, facing the camera, for this long first (the baseline pose). */
  leadInMs: number;
  /**
   * Directions from the user's point of view (the page shows a mirrored preview). The page shows
   * step i's instruction at atMs (ms from the start of the recording); the turn must be reached
   * within stepTimeoutMs after that, and not before it.
   */
  steps: Array<{ direction: Direction; degrees: number; atMs: number }>;
  stepTimeoutMs: number;
  /** The recording ends here (last instruction + its timeout). */
  totalTimeoutMs: number;
}

/**
 * PASSIVE with screen light: no instruction to the user. During the burst the page switches the
 * screen around the viewfinder between white and dark grey, pattern[i] shown from the moment frame
 * i − 1 is taken (pattern[0] from the press), and back to white after the last frame. A live face
 * is lit by it; an emissive replay reflects it only off its glass (signals/screen-light.ts).
 * The pattern is one uniform draw from every sequence of 16 free values and 2 white ones with ≤ 6
 * changes (3 flashes) in any second, counting the changes from and back to the white page (WCAG
 * 2.3.1), each level on ≥ 4 frames and ≥ 4 changes inside the burst (signals/screen-light.ts
 * isIssuableScreenPattern).
 */
export interface ScreenLightChallenge extends ChallengeBase {
  method: 'PASSIVE';
  /** 0 = dark grey, 1 = white, one value per burst frame. */
  pattern: number[];
  /** Frames 0..frames-1 are taken intervalMs apart; the still with frame captureIndex. */
  frames: number;
  intervalMs: number;
  captureIndex: number;
  /** The two screen colours (CSS rgb components). */
  light: readonly [number, number, number];
  dark: readonly [number, number, number];
}

export type Challenge = FlashingChallenge | Active3dChallenge | ScreenLightChallenge;

export const CHALLENGE_DEFAULTS = {
  /** How long an issued challenge may wait for its answer (page load, camera permission, recording, upload). */
  ttlMs: 5 * 60_000,
  /** Slack added to the recording's own duration for the upload to reach the server. */
  uploadSlackMs: 20_000,
  flashing: { steps: 7, minStepMs: 300, maxStepMs: 500, leadInMs: 600, maxLagMs: 350, fps: 15 },
  // 18 frames (1.44 s; 16 free, 2 white): 12 could not hold a chance bound of 1/1000, 16 without
  // the white tail not 1/3,000 per challenge (docs/liveness.md, "Chance acceptance of a recording");
  // the still is the middle frame (9), as the generator renders it
  screenLight: { frames: SCREEN_PATTERN.frames, intervalMs: SCREEN_PATTERN.intervalMs, captureIndex: 9, light: [255, 255, 255] as const, dark: [64, 64, 64] as const },
  active: { steps: 4, yawDegrees: 18, pitchDegrees: 12, leadInMs: 1000, minIntervalMs: 1800, maxIntervalMs: 2800, stepTimeoutMs: 1800, fps: 5 },
} as const;

function randomId(rng: Rng): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) bytes[i] = Math.floor(rng.next() * 256);
  return Buffer.from(bytes).toString('base64url');
}

/** A new challenge; `rng` defaults to crypto randomness (use seededRng only in tests). */
export function createChallenge(method: 'PASSIVE', rng?: Rng, now?: number): ScreenLightChallenge;
export function createChallenge(method: 'FLASHING', rng?: Rng, now?: number): FlashingChallenge;
export function createChallenge(method: 'ACTIVE_3D', rng?: Rng, now?: number): Active3dChallenge;
export function createChallenge(method: LivenessMethod, rng?: Rng, now?: number): Challenge;
export function createChallenge(method: LivenessMethod, rng: Rng = cryptoRng(), now = Date.now()): Challenge {
  const base = { v: 1 as const, id: randomId(rng), issuedAt: now, expiresAt: now + CHALLENGE_DEFAULTS.ttlMs, frameWidth: 320, frameHeight: 240 };
  if (method === 'PASSIVE') {
    const d = CHALLENGE_DEFAULTS.screenLight;
    // fps is informational for PASSIVE (frames are taken intervalMs apart)
    return { ...base, method, fps: 1000 / d.intervalMs, pattern: randomScreenPattern(rng, d.frames), frames: d.frames, intervalMs: d.intervalMs, captureIndex: d.captureIndex, light: d.light, dark: d.dark };
  }
  if (method === 'FLASHING') {
    const d = CHALLENGE_DEFAULTS.flashing;
    const names = Object.keys(FLASH_PALETTE) as FlashColour[];
    const steps: FlashingChallenge['steps'] = [];
    // random colours, no immediate repeats, at least two bright (white/yellow/cyan) steps for the shading test
    for (;;) {
      steps.length = 0;
      let prev: FlashColour | null = null;
      for (let i = 0; i < d.steps; i++) {
        const c: FlashColour = pick(rng, names.filter((n) => n !== prev));
        steps.push({ colour: c, rgb: FLASH_PALETTE[c], ms: Math.round(uniform(rng, d.minStepMs, d.maxStepMs) / 10) * 10 });
        prev = c;
      }
      const bright = steps.filter((s) => s.colour === 'white' || s.colour === 'yellow' || s.colour === 'cyan').length;
      const channels = [0, 1, 2].every((ch) => steps.some((s) => s.rgb[ch] === 255) && steps.some((s) => s.rgb[ch] === 0));
      // and colours with ≥ 3,000 valid orders: flash_response ranks the issued order among them, so
      // fewer would leave a recording a chance above 1/3,000 per challenge (signals/flash.ts, FLASH.minOrders)
      if (bright >= 2 && channels && hasEnoughOrders(steps.map((s) => s.colour))) break;
    }
    return { ...base, method, fps: d.fps, leadInMs: d.leadInMs, steps, maxLagMs: d.maxLagMs };
  }
  const d = CHALLENGE_DEFAULTS.active;
  // random directions, no immediate repeat, both a yaw and a pitch turn; random instruction times:
  // 4·3·3·3 orders × jittered timing, so a recording made for another challenge does not fit
  let dirs: Direction[];
  do {
    dirs = [];
    for (let i = 0; i < d.steps; i++) dirs.push(pick(rng, (['left', 'right', 'up', 'down'] as Direction[]).filter((x) => x !== dirs[i - 1])));
  } while (!dirs.some((x) => x === 'left' || x === 'right') || !dirs.some((x) => x === 'up' || x === 'down'));
  let at = d.leadInMs;
  const steps = dirs.map((direction, i) => {
    if (i > 0) at += Math.round(uniform(rng, d.minIntervalMs, d.maxIntervalMs) / 10) * 10;
    return { direction, degrees: direction === 'left' || direction === 'right' ? d.yawDegrees : d.pitchDegrees, atMs: at };
  });
  // The face engine runs on every frame: 640 px keeps the face well above its detection floor.
  return { ...base, frameWidth: 640, frameHeight: 480, method, fps: d.fps, leadInMs: d.leadInMs, steps, stepTimeoutMs: d.stepTimeoutMs, totalTimeoutMs: at + d.stepTimeoutMs };
}

/** Length of the recording the challenge asks for, ms. */
export function challengeDurationMs(ch: Challenge): number {
  if (ch.method === 'PASSIVE') return ch.frames * ch.intervalMs;
  return ch.method === 'FLASHING' ? ch.leadInMs + ch.steps.reduce((s, x) => s + x.ms, 0) + ch.maxLagMs : ch.totalTimeoutMs;
}

/** What the capture page needs (everything is public: the secret part is that it is fresh and single-use). */
export function publicChallenge(ch: Challenge): Challenge {
  return JSON.parse(JSON.stringify(ch)) as Challenge;
}

export interface UseCheck {
  ok: boolean;
  warning?: LivenessWarning;
}

/** A set of used challenge ids (the verifier passes one backed by its store; a Set works in tests). */
export interface UsedSet {
  has(id: string): boolean;
  add(id: string): unknown;
}

/**
 * Server-side checks before any pixel is looked at: the response names this challenge, it is not
 * expired, it has not been used, and it did not arrive sooner than the challenge can be performed or
 * later than its duration plus upload slack after issue (`startedAt` when the page reported the start,
 * else issuedAt). Marks the challenge used whatever the outcome (one attempt per challenge).
 */
export function checkChallengeUse(
  ch: Challenge,
  opts: { used: UsedSet; now?: number; responseId?: string; startedAt?: number },
): UseCheck {
  const now = opts.now ?? Date.now();
  if (opts.responseId !== undefined && opts.responseId !== ch.id) return { ok: false, warning: livenessWarning('CHALLENGE_INVALID', 'error', { reason: 'response for another challenge' }) };
  if (opts.used.has(ch.id)) return { ok: false, warning: livenessWarning('CHALLENGE_REPLAYED', 'error', { challenge: ch.id }) };
  opts.used.add(ch.id);
  if (now > ch.expiresAt) return { ok: false, warning: livenessWarning('CHALLENGE_INVALID', 'error', { reason: 'expired' }) };
  const start = Math.max(ch.issuedAt, opts.startedAt ?? ch.issuedAt);
  const dur = challengeDurationMs(ch);
  if (ch.method === 'FLASHING' && now - start < dur - ch.maxLagMs) return { ok: false, warning: livenessWarning('CHALLENGE_INVALID', 'error', { reason: 'answered before the sequence could be shown' }) };
  // the burst itself takes (frames − 1) intervals after the pattern arrives
  if (ch.method === 'PASSIVE' && now - start < (ch.frames - 1) * ch.intervalMs) return { ok: false, warning: livenessWarning('CHALLENGE_INVALID', 'error', { reason: 'answered before the light pattern could be shown' }) };
  if (now - start > dur + CHALLENGE_DEFAULTS.uploadSlackMs) return { ok: false, warning: livenessWarning('CHALLENGE_TIMEOUT', 'error', { elapsedMs: now - start }) };
  return { ok: true };
}

const orderCounts = new Map<string, number>();

/** flashOrders(colours).length ≥ FLASH_MIN_ORDERS, remembered per colour set (createChallenge draws ~60 sets per issued one). */
function hasEnoughOrders(colours: readonly FlashColour[]): boolean {
  // at most the arrangements of the multiset (n! / Π count!): no need to list them when that is short
  const counts = new Map<FlashColour, number>();
  for (const c of colours) counts.set(c, (counts.get(c) ?? 0) + 1);
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const arrangements = [...counts.values()].reduce((a, c) => a / fact(c), fact(colours.length));
  if (arrangements < FLASH_MIN_ORDERS) return false;
  const key = [...colours].sort().join(',');
  let n = orderCounts.get(key);
  if (n === undefined) orderCounts.set(key, (n = flashOrders(colours).length));
  return n >= FLASH_MIN_ORDERS;
}

/**
 * Every order of the challenge's colours that the server could have drawn with the same colours:
 * each distinct arrangement of them with no colour twice in a row (createChallenge draws each step
 * uniformly among the colours other than the previous one, so given its colours every such order is
 * equally likely; its other conditions depend on the colours only, not their order).
 */
export function flashOrders(colours: readonly FlashColour[]): FlashColour[][] {
  const counts = new Map<FlashColour, number>();
  for (const c of colours) counts.set(c, (counts.get(c) ?? 0) + 1);
  const names = [...counts.keys()].sort();
  const out: FlashColour[][] = [];
  const cur: FlashColour[] = [];
  const walk = (): void => {
    if (cur.length === colours.length) { out.push([...cur]); return; }
    for (const c of names) {
      if (!counts.get(c) || c === cur[cur.length - 1]) continue;
      counts.set(c, counts.get(c)! - 1); cur.push(c);
      walk();
      cur.pop(); counts.set(c, counts.get(c)! + 1);
    }
  };
  walk();
  return out;
}

/** Expected screen colour (0..1 RGB) at time t (ms from the start of the sequence); lead-in is black. */
export function flashColourAt(ch: FlashingChallenge, t: number): [number, number, number] {
  let edge = ch.leadInMs;
  if (t < edge) return [0, 0, 0];
  for (const s of ch.steps) {
    if (t < edge + s.ms) return [s.rgb[0] / 255, s.rgb[1] / 255, s.rgb[2] / 255];
    edge += s.ms;
  }
  return [0, 0, 0];
}

/** Parse and check a challenge from JSON (CLI, storage); throws on anything malformed. */
export function parseChallenge(json: unknown): Challenge {
  const c = json as Challenge;
  if (!c || typeof c !== 'object' || c.v !== 1 || typeof c.id !== 'string') throw new Error('not a liveness challenge');
  if (c.method !== 'PASSIVE' && !Array.isArray((c as { steps?: unknown }).steps)) throw new Error('not a liveness challenge');
  if (c.method === 'FLASHING') {
    for (const s of c.steps) if (!(s.colour in FLASH_PALETTE) || !(s.ms > 0)) throw new Error('bad FLASHING step');
    if (!(c.leadInMs >= 0) || !(c.maxLagMs >= 0)) throw new Error('bad FLASHING timing');
  } else if (c.method === 'ACTIVE_3D') {
    for (const s of c.steps) if (!['left', 'right', 'up', 'down'].includes(s.direction) || !(s.degrees > 0) || !(s.atMs >= 0)) throw new Error('bad ACTIVE_3D step');
    if (!(c.stepTimeoutMs > 0) || !(c.totalTimeoutMs > 0)) throw new Error('bad ACTIVE_3D timing');
  } else if (c.method === 'PASSIVE') {
    const p = c.pattern as unknown;
    if (!Array.isArray(p) || p.length !== c.frames || !p.every((v) => v === 0 || v === 1)) throw new Error('bad PASSIVE screen-light pattern');
    if (!(c.intervalMs > 0) || !(c.captureIndex >= 0 && c.captureIndex < c.frames)) throw new Error('bad PASSIVE timing');
  } else throw new Error('unknown challenge method');
  return c;
}
