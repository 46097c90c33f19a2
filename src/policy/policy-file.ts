// The policy file, `.mir/policy.yaml` on the default branch: changed only by pull request like
// everything else in the repository, and validated on every read (each snapshot's blob, once),
// with the line of the first problem. Pure: text in, policy out.
//
//   version: 1
//   manifests:
//     prod:
//       order: { after: uat, soak: 24h }        # a version must come from uat and have been there 24h
//       freeze:                                 # merges into prod refused inside these windows
//         - { name: weekend, start: "0 18 * * 5", end: "0 6 * * 1", timezone: Europe/Berlin }
//       allow:                                  # if given, merges only inside these (freeze still wins)
//         - { name: office, start: "0 8 * * 1-5", end: "0 18 * * 1-5", timezone: Europe/Berlin }
//       approvals: { required: 2 }              # builtin pull requests: 2 approvals by others
import { Cron } from 'croner';
import { isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { errors } from '../errors.js';
import { isManifestName } from '../formats/values.js';
import { decodeUtf8, parseWithLines } from '../formats/yaml-lines.js';

export const POLICY_PATH = '.mir/policy.yaml';

export interface Window {
  readonly name: string;
  readonly start: Cron;
  readonly end: Cron;
  readonly timezone: string;
}

export interface ManifestPolicy {
  readonly order?: { readonly after: string; readonly soakMs: number; readonly soak: string };
  readonly freeze: readonly Window[];
  readonly allow: readonly Window[];
  readonly approvals?: { readonly required: number };
}

export interface Policy {
  readonly manifests: ReadonlyMap<string, ManifestPolicy>;
}

export const EMPTY_POLICY: Policy = { manifests: new Map() };

const DURATION = /^(\d+)(m|h|d)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parsePolicy(bytes: string | Uint8Array): Policy {
  const fail = (line: number | null, reason: string): never => {
    throw errors.policyInvalid(POLICY_PATH, line, reason);
  };
  const text = decodeUtf8(bytes, () => fail(null, 'is not UTF-8'));
  const { doc, lineOfNode } = parseWithLines(text, fail);
  const root = doc.contents;
  if (!isMap(root)) return fail(1, 'must be a mapping with version and manifests');
  const at = (node: unknown, reason: string): never => fail(lineOfNode(node), reason);

  const keys = (map: YAMLMap, allowed: readonly string[], where: string) => {
    for (const pair of map.items as Pair<Node, Node>[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!allowed.includes(key)) at(pair.key, `${where}: unknown key ${key || '(not a scalar)'} (allowed: ${allowed.join(', ')})`);
    }
  };
  const scalar = (map: YAMLMap, key: string, where: string): unknown => {
    const node = map.get(key, true);
    if (node === undefined) return undefined;
    if (!isScalar(node)) at(node, `${where}.${key} must be a scalar`);
    return (node as { value: unknown }).value;
  };
  const string = (map: YAMLMap, key: string, where: string): string => {
    const value = scalar(map, key, where);
    if (typeof value !== 'string' || value.length === 0) at(map.get(key, true) ?? map, `${where}.${key} must be a non-empty string`);
    return value as string;
  };

  keys(root, ['version', 'manifests'], 'policy');
  if (scalar(root, 'version', 'policy') !== 1) at(root.get('version', true) ?? root, 'version must be 1');
  const manifestsNode = root.get('manifests', true);
  const manifests = new Map<string, ManifestPolicy>();
  if (manifestsNode === undefined) return { manifests };
  if (!isMap(manifestsNode)) return at(manifestsNode, 'manifests must be a mapping of manifest name to its policy');

  const windows = (map: YAMLMap, key: 'freeze' | 'allow', where: string): Window[] => {
    const node = map.get(key, true);
    if (node === undefined) return [];
    if (!isSeq(node)) return at(node, `${where}.${key} must be a list of windows`);
    return node.items.map((item, i) => {
      const w = `${where}.${key}[${i}]`;
      if (!isMap(item)) return at(item, `${w} must be a mapping with name, start, end, timezone`);
      keys(item, ['name', 'start', 'end', 'timezone'], w);
      const name = string(item, 'name', w);
      const timezone = string(item, 'timezone', w);
      try {
        new Intl.DateTimeFormat('en', { timeZone: timezone });
      } catch {
        at(item.get('timezone', true), `${w}.timezone ${timezone} is not an IANA time zone`);
      }
      const cron = (field: 'start' | 'end') => {
        const pattern = string(item, field, w);
        try {
          return new Cron(pattern, { timezone, paused: true });
        } catch (error) {
          return at(item.get(field, true), `${w}.${field} is not a cron pattern (${(error as Error).message})`);
        }
      };
      return { name, start: cron('start'), end: cron('end'), timezone };
    });
  };

  for (const pair of manifestsNode.items as Pair<Node, Node>[]) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!isManifestName(name)) at(pair.key, `manifests: ${name || '(not a scalar)'} is not a manifest name`);
    const where = `manifests.${name}`;
    const node = pair.value;
    if (!isMap(node)) return at(node ?? pair.key, `${where} must be a mapping`);
    keys(node, ['order', 'freeze', 'allow', 'approvals'], where);
    let order: ManifestPolicy['order'];
    const orderNode = node.get('order', true);
    if (orderNode !== undefined) {
      if (!isMap(orderNode)) return at(orderNode, `${where}.order must be a mapping with after and soak`);
      keys(orderNode, ['after', 'soak'], `${where}.order`);
      const after = string(orderNode, 'after', `${where}.order`);
      if (!isManifestName(after) || after === name) at(orderNode.get('after', true), `${where}.order.after must name another manifest`);
      const soak = String(scalar(orderNode, 'soak', `${where}.order`) ?? '0m');
      const match = DURATION.exec(soak);
      if (!match) at(orderNode.get('soak', true), `${where}.order.soak must be a duration like 30m, 24h or 2d`);
      order = { after, soak, soakMs: Number(match![1]) * UNIT_MS[match![2] as keyof typeof UNIT_MS] };
    }
    let approvals: ManifestPolicy['approvals'];
    const approvalsNode = node.get('approvals', true);
    if (approvalsNode !== undefined) {
      if (!isMap(approvalsNode)) return at(approvalsNode, `${where}.approvals must be a mapping with required`);
      keys(approvalsNode, ['required'], `${where}.approvals`);
      const required = scalar(approvalsNode, 'required', `${where}.approvals`);
      if (typeof required !== 'number' || !Number.isInteger(required) || required < 1 || required > 20)
        at(approvalsNode.get('required', true) ?? approvalsNode, `${where}.approvals.required must be an integer from 1 to 20`);
      approvals = { required: required as number };
    }
    manifests.set(name, {
      ...(order ? { order } : {}),
      ...(approvals ? { approvals } : {}),
      freeze: windows(node, 'freeze', where),
      allow: windows(node, 'allow', where),
    });
  }
  return { manifests };
}

/**
 * Whether `now` is inside one of `windows`, and until when: inside when the window's last start
 * came after its last end. Both are read by croner in the window's time zone, so a window keeps
 * its wall-clock times across a daylight-saving change.
 */
export function windowAt(windows: readonly Window[], now: Date): { window: Window; until: Date | null } | null {
  for (const window of windows) {
    const start = window.start.previousRuns(1, now)[0];
    if (!start) continue;
    const end = window.end.previousRuns(1, now)[0];
    if (end && end.getTime() >= start.getTime()) continue;
    return { window, until: window.end.nextRun(now) };
  }
  return null;
}
