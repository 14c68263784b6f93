// The browser without a browser of the login benchmarks (bench/login, bench/cluster): a full
// authorization-code sign-in timed from the relying party's point of view, authorize → interaction
// (login_hint) → verification session → capture upload → signed webhook → callback → code → token.
// The user's own time (looking at the camera) is not counted: with screen light (the default
// PASSIVE workflow) the page asks for its light pattern and the burst is rendered for it (≈ 1 s of
// CPU in a child process, bench/bursts.ts ApartRenderer: not timed, and neither its CPU nor its
// garbage falls on this process); sign-ins "at once" are taken to the capture page and rendered one
// after the other, then upload and go on together.
import * as oidc from 'openid-client';
import { Browser, continueWithSelfie } from '../../test/helpers/server.ts';
import type { ScreenLightChallenge } from '../../src/liveness/index.ts';
import { ApartRenderer, burstForm, type BurstUpload, type LiveBurst } from '../bursts.ts';

export const REDIRECT = 'http://127.0.0.1:1/cb';
export const BENCH_CLIENT = { client_id: 'bench', client_secret: 'bench-secret-0123456789-0123456789', redirect_uris: [REDIRECT], first_party: true, grant_types: ['authorization_code'] };
/** The eight people of ../shared/faces. */
export const PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj', 'sheldon', 'stuart'];

// Every sign-in here comes from one address (the per-IP limits would stop the bench), is a new
// device (which the risk policy would send to ACTIVE_3D), and would be offered a passkey: the
// benchmarks measure the passive flow, straight back to the app.
export const BENCH_SETTINGS = {
  signin: { lookupsPerIpPerHour: 1_000_000, verificationsPerIpPerHour: 1_000_000 },
  risk: { newDevice: 'PASSIVE' },
  passkeys: { offerAfterFaceSignin: false },
};

/** config/default.json with BENCH_SETTINGS, section by section. */
export function benchConfig(defaults: Record<string, any>): Record<string, any> {
  const merged = { ...defaults };
  for (const [name, values] of Object.entries(BENCH_SETTINGS)) merged[name] = { ...defaults[name], ...values };
  return merged;
}

/** --face-only: FACE_MATCH + IP_ANALYSIS, one JPEG, to separate the flow's cost from liveness'. */
export const FACE_ONLY_WORKFLOWS = { workflows: [
  { workflow_id: 'bench-face-only', workflow_type: 'biometric_authentication', features: ['FACE_MATCH', 'IP_ANALYSIS'], face_match: { review_threshold: 72, decline_threshold: 62 } },
  { workflow_id: 'bench-kyc', workflow_type: 'kyc', features: ['IP_ANALYSIS'] },
] };

/** A person to sign in: the account's email and whose face (a key of `selfies`). */
export type Signer = { face: string; email: string };
type AtCamera = { who: Signer; ms: number; browser: Browser; verifier: string; captureUrl: string; cfg: any; selfie: BurstUpload };

export class LoginDriver {
  /** Time spent rendering bursts (never overlaps timed work): left out of sign-ins/s. */
  renderingMs = 0;
  readonly #issuer: string;
  readonly #rp: oidc.Configuration;
  readonly #selfies: Map<string, LiveBurst>;
  readonly #faceOnly: boolean;
  readonly #renderer = new ApartRenderer();

  constructor(issuer: string, rp: oidc.Configuration, selfies: Map<string, LiveBurst>, faceOnly: boolean) {
    this.#issuer = issuer;
    this.#rp = rp;
    this.#selfies = selfies;
    this.#faceOnly = faceOnly;
  }

  static async connect(issuer: string, selfies: Map<string, LiveBurst>, faceOnly: boolean): Promise<LoginDriver> {
    const rp = await oidc.discovery(new URL(issuer), BENCH_CLIENT.client_id, BENCH_CLIENT.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    return new LoginDriver(issuer, rp, selfies, faceOnly);
  }

  /** authorize → the capture page (→ its light pattern): timed; the burst for the pattern rendered, not timed. */
  async toCamera(who: Signer): Promise<AtCamera> {
    const issuer = this.#issuer;
    const started = performance.now();
    const browser = new Browser();
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(this.#rp, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's', login_hint: who.email });
    // A login_hint fills the email in; one press on "Continue with a selfie" opens the capture page.
    const captureUrl = (await continueWithSelfie(browser, issuer, await browser.follow(url, issuer))).headers.get('location')!;
    // The capture page, as the browser loads it, then (screen light) the challenge its script asks for.
    const html = await (await fetch(captureUrl)).text();
    const cfg = JSON.parse(/<script type="application\/json" id="capture-config">([\s\S]*?)<\/script>/.exec(html)![1]!);
    let selfie: BurstUpload = this.#selfies.get(who.face)!;
    if (cfg.screenLight && !this.#faceOnly) {
      const res = await fetch(new URL(cfg.challengeUrl, captureUrl), { method: 'POST', headers: { 'x-upload-token': cfg.uploadToken } });
      const { challenge } = (await res.json()) as { challenge: ScreenLightChallenge };
      const ms = performance.now() - started;
      const r0 = performance.now();
      selfie = await this.#renderer.answer(who.face, this.#selfies.get(who.face)!.seed, challenge);
      this.renderingMs += performance.now() - r0;
      return { who, ms, browser, verifier, captureUrl, cfg, selfie };
    }
    return { who, ms: performance.now() - started, browser, verifier, captureUrl, cfg, selfie };
  }

  /** The upload its script makes → the webhook → callback → code → token: timed. */
  async fromCamera(at: AtCamera): Promise<number> {
    const issuer = this.#issuer;
    const started = performance.now();
    const { who, browser, verifier, captureUrl, cfg, selfie } = at;
    const up = await fetch(new URL(cfg.uploadUrl, captureUrl), {
      method: 'POST',
      headers: { 'x-upload-token': cfg.uploadToken, ...(this.#faceOnly ? { 'content-type': 'image/jpeg' } : {}) },
      body: this.#faceOnly ? new Uint8Array(selfie.still) : burstForm(selfie),
    });
    const verdict = await up.json();
    if (verdict.status !== 'Approved') throw new Error(`${who.email}: verifier said ${verdict.status ?? JSON.stringify(verdict)}`);
    let hop = await browser.follow(verdict.redirect ?? verdict.callback, issuer);
    while (!hop.url.startsWith(REDIRECT)) {
      if (hop.res.status !== 200) throw new Error(`${who.email}: ${hop.res.status} at ${hop.url}`);
      await new Promise((r) => setTimeout(r, 1000)); // the "checking" page's refresh
      hop = await browser.follow(hop.url, issuer);
    }
    const tokens = await oidc.authorizationCodeGrant(this.#rp, new URL(hop.url), { pkceCodeVerifier: verifier, expectedState: 's' });
    if (JSON.stringify(tokens.claims()!.amr) !== '["face"]') throw new Error('no amr');
    return at.ms + performance.now() - started;
  }

  /** Ends the renderer's child process. */
  close(): void {
    this.#renderer.close();
  }

  async signIn(who: Signer): Promise<number> {
    return this.fromCamera(await this.toCamera(who));
  }

  /** Sign-ins at once: taken to the camera one after the other, then on from there together. */
  async signInTogether(who: Signer[]): Promise<number[]> {
    const at: AtCamera[] = [];
    for (const w of who) at.push(await this.toCamera(w));
    return Promise.all(at.map((a) => this.fromCamera(a)));
  }
}

/** The p-th percentile (nearest rank). */
export const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
