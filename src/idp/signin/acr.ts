// Authentication context: the four acr values (names outside tools rely on: never rename them),
// what a sign-in achieved, the acr and amr (RFC 8176) it earns, and what the application asked for
// (acr_values and the `acr` claims request). docs/signin.md, "acr and amr".
export const ACR = {
  face: 'urn:selfie-idp:acr:face',
  faceActive: 'urn:selfie-idp:acr:face-active',
  mfa: 'urn:selfie-idp:acr:mfa',
  passkey: 'urn:selfie-idp:acr:passkey',
} as const;
export type AcrValue = (typeof ACR)[keyof typeof ACR];
export const ACR_VALUES: AcrValue[] = [ACR.face, ACR.faceActive, ACR.mfa, ACR.passkey];

export type LivenessMethod = 'PASSIVE' | 'FLASHING' | 'ACTIVE_3D';

/** What one sign-in verified. */
export type Achieved = {
  face?: { method: LivenessMethod };
  passkey?: { hardware: boolean; userVerified: boolean };
};

/** The acr a sign-in earns on its own: the strongest that describes it. */
export function strongestAcr(a: Achieved): AcrValue | undefined {
  if (a.face && a.passkey) return ACR.mfa;
  if (a.face) return a.face.method === 'PASSIVE' ? ACR.face : ACR.faceActive;
  if (a.passkey) return ACR.passkey;
  return undefined;
}

/** Which requested values an earned acr satisfies (a stronger one satisfies a weaker request). */
const SATISFIES: Record<AcrValue, AcrValue[]> = {
  [ACR.face]: [ACR.face],
  [ACR.faceActive]: [ACR.faceActive, ACR.face],
  [ACR.mfa]: [ACR.mfa, ACR.face, ACR.passkey],
  [ACR.passkey]: [ACR.passkey],
};

export function satisfies(earned: string | undefined, requested: string): boolean {
  return earned !== undefined && (SATISFIES[earned as AcrValue] ?? []).includes(requested as AcrValue);
}

/**
 * The acr to put in the ID token: the first requested value the sign-in satisfies (so that an
 * essential request, which oidc-provider compares exactly, is met); with no request, the strongest
 * earned. Undefined: the request cannot be met by this sign-in.
 */
export function acrToReturn(requested: string[], achieved: Achieved): AcrValue | undefined {
  const earned = strongestAcr(achieved);
  if (requested.length === 0) return earned;
  return requested.find((r) => satisfies(earned, r)) as AcrValue | undefined;
}

/** RFC 8176: face for the selfie; the passkey adds hwk (or swk) and user (user verification); both add mfa. */
export function amrFor(a: Achieved): string[] {
  const amr: string[] = [];
  if (a.face) amr.push('face');
  if (a.passkey) {
    amr.push(a.passkey.hardware ? 'hwk' : 'swk');
    if (a.passkey.userVerified) amr.push('user');
  }
  if (a.face && a.passkey) amr.push('mfa');
  return amr;
}

type AcrClaimRequest = { value?: unknown; values?: unknown; essential?: unknown };

/**
 * What the application asked for, in its order of preference: the `acr` claims request (value or
 * values) first, then acr_values. Empty: no request (today's face sign-in).
 */
export function requestedAcrs(params: Record<string, unknown>): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v && !out.includes(v)) out.push(v);
  };
  if (typeof params.claims === 'string') {
    try {
      const acr = (JSON.parse(params.claims) as { id_token?: { acr?: AcrClaimRequest }; userinfo?: { acr?: AcrClaimRequest } })?.id_token?.acr;
      if (acr && typeof acr === 'object') {
        add(acr.value);
        if (Array.isArray(acr.values)) acr.values.forEach(add);
      }
    } catch {
      // oidc-provider has already refused malformed claims before any interaction
    }
  }
  if (typeof params.acr_values === 'string') params.acr_values.split(' ').forEach(add);
  return out;
}

/** What can be offered to this sign-in: depends on the client, the account and the services configured. */
export type Reachable = {
  /** A challenge workflow (ACTIVE_3D or FLASHING) is configured. */
  challenge: boolean;
  /** The account has a passkey (undefined: the account is not known yet). */
  accountHasPasskey: boolean | undefined;
  /** The client's metadata allows passkey-only sign-in (allow_passkey_only). */
  clientAllowsPasskeyOnly: boolean;
  /** Passkeys are available at all (step 4 of issue 13). */
  passkeys: boolean;
};

/** Whether the value can be earned; `undefined` means "only once the account is known". */
export function canReach(value: string, r: Reachable): boolean | undefined {
  switch (value) {
    case ACR.face:
      return true;
    case ACR.faceActive:
      return r.challenge;
    case ACR.mfa:
      return r.passkeys ? r.accountHasPasskey : false;
    case ACR.passkey:
      return r.passkeys && r.clientAllowsPasskeyOnly ? r.accountHasPasskey : false;
    default:
      return false; // not one of ours
  }
}

/**
 * The target of this sign-in: the first requested value that can be reached (undefined ones count
 * as maybe while the account is unknown); face when nothing was asked. `unmet` when none can.
 */
export function planAcr(requested: string[], r: Reachable): { target: AcrValue } | { unmet: string } | { pending: true } {
  if (requested.length === 0) return { target: ACR.face };
  for (const value of requested) {
    const can = canReach(value, r);
    if (can === true) return { target: value as AcrValue };
    if (can === undefined) return { pending: true };
  }
  return { unmet: `None of the requested authentication contexts can be met for this sign-in (${requested.join(' ')}).` };
}

/** The liveness method a face target needs (the risk policy may ask for more). */
export function methodFor(target: AcrValue): LivenessMethod {
  return target === ACR.faceActive ? 'ACTIVE_3D' : 'PASSIVE';
}
