// The risk policy (docs/signin.md, "Risk policy"; `risk` in config/default.json): which liveness
// method a face sign-in uses, and why. Inputs: the account, the device cookie (`selfie_device`,
// sent to the service as metadata.device_id), the client IP and user agent; the application's
// request is the acr plan, combined by the caller (the stronger method wins).
//
//   known device (an approved sign-in of this account from it) on an unlisted IP → knownDevice (PASSIVE)
//   a device this account has not signed in from                                 → newDevice (ACTIVE_3D)
//   an IP in the operator's Tor / VPN / data-centre lists                        → listedIp (ACTIVE_3D)
//
// A new country is not an input: it needs a geolocation list we do not have (and no network
// look-ups are made at sign-in). Device history lives in the store, per account.
import type { Store } from '../../store/index.ts';
import type { IpClass, IpLists } from '../../risk/ip-lists.ts';
import type { LivenessMethod } from './acr.ts';

export type RiskSettings = {
  knownDevice: LivenessMethod;
  newDevice: LivenessMethod;
  listedIp: LivenessMethod;
  /** Devices remembered per account (the least recently seen is forgotten first). */
  maxDevicesPerAccount: number;
};

export type DeviceRecord = { firstSeen: number; lastSeen: number; lastApprovedAt: number | null };
export type RiskReason = 'known_device' | 'new_device' | 'ip_tor' | 'ip_vpn' | 'ip_datacenter' | 'acr_requested';
export type RiskDecision = { method: LivenessMethod; reasons: RiskReason[]; ip: IpClass };

const STRENGTH: Record<LivenessMethod, number> = { PASSIVE: 0, FLASHING: 1, ACTIVE_3D: 2 };
export const stronger = (a: LivenessMethod, b: LivenessMethod): LivenessMethod => (STRENGTH[b] > STRENGTH[a] ? b : a);

const devicesKey = (accountId: string) => `risk:devices:${accountId}`;

/** Per account: the devices seen (a verification started) and approved (a sign-in succeeded). */
export class DeviceHistory {
  readonly #store: Store;
  readonly #max: number;
  constructor(store: Store, maxDevices: number) {
    this.#store = store;
    this.#max = maxDevices;
  }

  async all(accountId: string): Promise<Record<string, DeviceRecord>> {
    return (await this.#store.get<Record<string, DeviceRecord>>(devicesKey(accountId))) ?? {};
  }

  async get(accountId: string, deviceId: string): Promise<DeviceRecord | undefined> {
    return (await this.all(accountId))[deviceId];
  }

  async #update(accountId: string, deviceId: string, change: (r: DeviceRecord | undefined, now: number) => DeviceRecord): Promise<void> {
    const devices = await this.all(accountId);
    const now = Date.now();
    devices[deviceId] = change(devices[deviceId], now);
    // Over the cap, devices never approved go first (anyone who knows the email can start sign-ins
    // from new browsers: they must not push the owner's trusted device out), least recently seen first.
    const rank = (id: string) => (devices[id]!.lastApprovedAt != null ? 1 : 0);
    const ids = Object.keys(devices).sort((a, b) => rank(b) - rank(a) || devices[b]!.lastSeen - devices[a]!.lastSeen);
    for (const id of ids.slice(this.#max)) delete devices[id];
    await this.#store.set(devicesKey(accountId), devices);
  }

  seen(accountId: string, deviceId: string): Promise<void> {
    return this.#update(accountId, deviceId, (r, now) => ({ firstSeen: r?.firstSeen ?? now, lastSeen: now, lastApprovedAt: r?.lastApprovedAt ?? null }));
  }

  approved(accountId: string, deviceId: string): Promise<void> {
    return this.#update(accountId, deviceId, (r, now) => ({ firstSeen: r?.firstSeen ?? now, lastSeen: now, lastApprovedAt: now }));
  }

  forget(accountId: string): Promise<number> {
    return this.#store.delete(devicesKey(accountId));
  }
}

export type RiskPolicy = { settings: RiskSettings; devices: DeviceHistory; ipLists: IpLists };

/** The method the sign-in's context calls for, and every reason that applied. */
export async function assessRisk(policy: RiskPolicy, input: { accountId: string; deviceId: string; ip: string }): Promise<RiskDecision> {
  const { settings } = policy;
  const reasons: RiskReason[] = [];
  const known = (await policy.devices.get(input.accountId, input.deviceId))?.lastApprovedAt != null;
  let method = known ? settings.knownDevice : settings.newDevice;
  reasons.push(known ? 'known_device' : 'new_device');
  const ip = policy.ipLists.classify(input.ip);
  for (const name of ['tor', 'vpn', 'datacenter'] as const) {
    if (!ip[name]) continue;
    reasons.push(`ip_${name}`);
    method = stronger(method, settings.listedIp);
  }
  return { method, reasons, ip };
}
