// Checks driven by the route table itself, so that a route is covered the day it is added: the
// operations come from the live app's OpenAPI document (and every /api/ route Fastify knows must be
// in it), and each one must have an entry in ROUTES below or this file fails.
// For every route:
//   - a token lacking the scope its tag and method call for → 403 forbidden naming that scope, and
//     nothing written (refs, rows, audit trail); a token with exactly that scope is let in;
//   - every write that documents `dry_run` → `dry_run: true` in the answer, nothing written;
//   - a real call of every write → exactly its audit action, recorded once;
//   - every conditional GET (documents 304) → 304 for `If-None-Match: *`.
import type { InjectOptions } from 'fastify';
import t from 'tap';
import { grants, SCOPES, type Scope } from '../../src/tokens/scopes.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { element, manifestName, manifestYaml, PEOPLE, seed, type FixtureElement } from '../helpers/repo-fixture.js';
import { captureState, stateDifferences } from '../helpers/state-snapshot.js';

const API = '/api/v2/source_control';
const enc = (s: string) => new TextEncoder().encode(s);

/** The scopes a tag's routes need: [for reads, for writes]. A new tag must say which. */
const SCOPES_BY_TAG: Record<string, readonly [Scope, Scope] | 'public'> = {
  Operations: 'public',
  Webhooks: 'public',
  Tokens: ['admin', 'admin'],
  Audit: ['admin', 'admin'],
  Manifests: ['source_control:releases_read', 'source_control:releases_write'],
  Releases: ['source_control:releases_read', 'source_control:releases_write'],
  Hotfixes: ['source_control:releases_read', 'source_control:releases_write'],
  'Pull requests': ['source_control:releases_read', 'source_control:releases_write'],
  Instances: ['source_control:read', 'source_control:write'],
  Promotion: ['source_control:releases_read', 'source_control:releases_write'],
  Holds: ['source_control:releases_read', 'admin'],
  Deployments: ['source_control:read', 'source_control:write'],
  'Event webhooks': ['admin', 'admin'],
};

interface Call {
  readonly url: string;
  readonly payload?: object;
}

interface Route {
  /** Builds what one call needs, fresh each time (its own element, manifest, pull request…), and the call. */
  prepare(env: Env): Promise<Call>;
  /** The audit action a real call records (every write has one). */
  readonly audit?: string;
  /** The scope, when not its tag's: `any` for a route any valid token may call (no scope to lack). */
  readonly scope?: Scope | 'any';
  /** An answer that never ends (an event stream): its exact-scope call is test/events/stream.test.ts's. */
  readonly stream?: true;
}

class Env {
  constructor(readonly ctx: TestApp) {}

  async inject(options: InjectOptions & { url: string }) {
    return this.ctx.app.inject({ ...options, headers: { ...this.ctx.auth(), ...options.headers } });
  }

  async ok(method: InjectOptions['method'], url: string, payload?: object): Promise<Record<string, unknown>> {
    const answer = await this.inject({ method, url, ...(payload ? { payload } : {}) });
    if (answer.statusCode >= 300) throw new Error(`preparing ${method} ${url}: ${answer.statusCode} ${answer.body}`);
    return answer.json().data as Record<string, unknown>;
  }

  /** A new app with these releases, listed in a new manifest (with `entries`) when one is asked for. */
  async app(releases: readonly string[] = ['1.0.0'], options: { inManifest?: string } = {}): Promise<{ e: FixtureElement; manifest: string }> {
    const e = element('PAGE', releases);
    const manifest = manifestName('rt');
    const apps: [string, string][] = options.inManifest ? [[e.uuid, options.inManifest]] : [];
    await seed(this.ctx.git, { elements: [e], manifests: { [manifest]: manifestYaml(manifest, { apps }) } });
    return { e, manifest };
  }

  /** An open pull request that sets a new app in a new manifest. */
  async pullRequest(): Promise<{ number: number; e: FixtureElement; manifest: string }> {
    const { e, manifest } = await this.app();
    const data = await this.ok('PUT', `${API}/manifests/${manifest}/${e.uuid}?elementType=PAGE`, { release: '1.0.0' });
    return { number: (data.pull_request as { number: number }).number, e, manifest };
  }

  async hotfix(withFix = false): Promise<string> {
    const { e } = await this.app();
    const data = await this.ok('POST', `${API}/hotfixes`, { element_uuid: e.uuid, element_type: 'PAGE', release: '1.0.0' });
    const hotfix = data.hotfix as { id: string; branch: string };
    if (withFix) {
      const git = this.ctx.git;
      const head = (await git.resolveRef(hotfix.branch))!;
      const commit = await git.commit({
        parent: head,
        changes: [{ path: `apps/${e.name}/main.json`, bytes: enc('{"fixed": true}\n') }],
        message: 'Fix it\n',
        author: PEOPLE,
      });
      await git.pushBranch({ branch: hotfix.branch, commit, expectedOld: head });
    }
    return hotfix.id;
  }

  async instance(manifest?: string): Promise<string> {
    const name = manifestName('inst');
    await this.ok('POST', `${API}/instances`, { name, ...(manifest ? { manifest } : {}) });
    return name;
  }

  async deployment(): Promise<{ instance: string; id: string }> {
    const instance = await this.instance();
    const data = await this.ok('POST', `${API}/instances/${instance}/deployments`, { commit_sha: 'a'.repeat(40), status: 'RUNNING' });
    return { instance, id: data.id as string };
  }

  async subscription(): Promise<string> {
    const data = await this.ok('POST', '/api/v2/webhooks/subscriptions', {
      url: 'https://hooks.example.com/route-table',
      secret: 'route-table-secret-0123',
      event_types: ['release.created'],
    });
    return (data.subscription as { id: string }).id;
  }

  async token(): Promise<string> {
    return (await this.ok('POST', '/api/v2/tokens', { name: 'route-table-bystander', scopes: ['source_control:read'] })).id as string;
  }
}

const ROUTES: Record<string, Route> = {
  getMetrics: { prepare: async () => ({ url: '/metrics' }) },
  getHealth: { prepare: async () => ({ url: '/healthz' }) },
  getReadiness: { prepare: async () => ({ url: '/readyz' }) },
  receiveForgeWebhook: { prepare: async () => ({ url: `${API}/webhooks/github`, payload: { action: 'closed' } }) },

  createToken: {
    prepare: async () => ({ url: '/api/v2/tokens', payload: { name: 'route-table-new', scopes: ['source_control:read'] } }),
    audit: 'token.create',
  },
  listTokens: { prepare: async () => ({ url: '/api/v2/tokens' }) },
  getCurrentToken: { prepare: async () => ({ url: '/api/v2/tokens/current' }), scope: 'any' },
  streamEvents: { prepare: async () => ({ url: `${API}/events` }), scope: 'source_control:releases_read', stream: true },
  getToken: { prepare: async (env) => ({ url: `/api/v2/tokens/${await env.token()}` }) },
  revokeToken: { prepare: async (env) => ({ url: `/api/v2/tokens/${await env.token()}` }), audit: 'token.revoke' },
  listAuditEvents: { prepare: async () => ({ url: '/api/v2/audit_events' }) },

  listManifests: { prepare: async () => ({ url: `${API}/manifests` }) },
  getManifest: { prepare: async (env) => ({ url: `${API}/manifests/${(await env.app()).manifest}` }) },
  setManifest: {
    prepare: async (env) => {
      const { e, manifest } = await env.app();
      return { url: `${API}/manifests/${manifest}`, payload: { manifest: { apps: [{ uuid: e.uuid, release: '1.0.0' }], workflows: [] } } };
    },
    audit: 'manifest.replace',
  },
  deleteManifest: { prepare: async (env) => ({ url: `${API}/manifests/${(await env.app()).manifest}/delete` }), audit: 'manifest.delete' },
  setManifestApp: {
    prepare: async (env) => {
      const { e, manifest } = await env.app();
      return { url: `${API}/manifests/${manifest}/apps/${e.uuid}`, payload: { release: '1.0.0' } };
    },
    audit: 'manifest.entry.set',
  },
  deleteManifestApp: {
    prepare: async (env) => {
      const { e, manifest } = await env.app(['1.0.0'], { inManifest: '1.0.0' });
      return { url: `${API}/manifests/${manifest}/apps/${e.uuid}/delete` };
    },
    audit: 'manifest.entry.remove',
  },
  setManifestElement: {
    prepare: async (env) => {
      const { e, manifest } = await env.app();
      return { url: `${API}/manifests/${manifest}/${e.uuid}?elementType=PAGE`, payload: { release: '1.0.0' } };
    },
    audit: 'manifest.entry.set',
  },
  deleteManifestElement: {
    prepare: async (env) => {
      const { e, manifest } = await env.app(['1.0.0'], { inManifest: '1.0.0' });
      return { url: `${API}/manifests/${manifest}/${e.uuid}/delete?elementType=PAGE` };
    },
    audit: 'manifest.entry.remove',
  },

  listPullRequests: { prepare: async () => ({ url: `${API}/pull_requests` }) },
  getPullRequest: { prepare: async (env) => ({ url: `${API}/pull_requests/${(await env.pullRequest()).number}` }) },
  mergePullRequest: { prepare: async (env) => ({ url: `${API}/pull_requests/${(await env.pullRequest()).number}/merge` }), audit: 'pull_request.merge' },
  closePullRequest: { prepare: async (env) => ({ url: `${API}/pull_requests/${(await env.pullRequest()).number}/close` }), audit: 'pull_request.close' },
  refreshPullRequest: {
    prepare: async (env) => {
      const { number, manifest } = await env.pullRequest();
      // Someone changes another entry of the same manifest on the default branch: the branch is stale.
      const other = element('PAGE', ['1.0.0']);
      await seed(env.ctx.git, { elements: [other], manifests: { [manifest]: manifestYaml(manifest, { apps: [[other.uuid, '1.0.0']] }) } });
      return { url: `${API}/pull_requests/${number}/refresh` };
    },
    audit: 'pull_request.rebuild',
  },

  listAppReleases: { prepare: async (env) => ({ url: `${API}/releases/apps/${(await env.app()).e.uuid}` }) },
  createAppRelease: {
    prepare: async (env) => ({ url: `${API}/releases/apps/${(await env.app()).e.uuid}`, payload: { release_version: '2.0.0' } }),
    audit: 'release.create',
  },
  listReleases: { prepare: async (env) => ({ url: `${API}/releases/${(await env.app()).e.uuid}?elementType=PAGE` }) },
  createRelease: {
    prepare: async (env) => ({ url: `${API}/releases/${(await env.app()).e.uuid}?elementType=PAGE`, payload: { bump: 'minor' } }),
    audit: 'release.create',
  },
  downloadReleaseArtifact: { prepare: async (env) => ({ url: `${API}/releases/${(await env.app()).e.uuid}/1.0.0/artifact?elementType=PAGE` }) },
  listElements: { prepare: async () => ({ url: `${API}/elements` }) },
  publish: {
    prepare: async (env) => {
      const { e, manifest } = await env.app();
      return { url: `${API}/publish`, payload: { changes: [{ manifest, element_uuid: e.uuid, element_type: 'PAGE', release: '1.0.0' }] } };
    },
    audit: 'publish',
  },

  createHotfix: {
    prepare: async (env) => ({ url: `${API}/hotfixes`, payload: { element_uuid: (await env.app()).e.uuid, element_type: 'PAGE', release: '1.0.0' } }),
    audit: 'hotfix.create',
  },
  listHotfixes: { prepare: async () => ({ url: `${API}/hotfixes` }) },
  getHotfix: { prepare: async (env) => ({ url: `${API}/hotfixes/${await env.hotfix()}` }) },
  releaseHotfix: { prepare: async (env) => ({ url: `${API}/hotfixes/${await env.hotfix(true)}/release` }), audit: 'hotfix.release' },
  abandonHotfix: { prepare: async (env) => ({ url: `${API}/hotfixes/${await env.hotfix()}/abandon` }), audit: 'hotfix.abandon' },

  compareManifests: {
    prepare: async (env) => ({ url: `${API}/compare?from=${(await env.app(['1.0.0'], { inManifest: '1.0.0' })).manifest}&to=${(await env.app()).manifest}` }),
  },
  promote: {
    prepare: async (env) => ({
      url: `${API}/promote`,
      payload: { from: (await env.app(['1.0.0'], { inManifest: '1.0.0' })).manifest, to: (await env.app()).manifest },
    }),
    audit: 'promote',
  },
  rollback: {
    prepare: async (env) => {
      const { e, manifest } = await env.app(['1.0.0', '1.1.0'], { inManifest: '1.1.0' });
      return { url: `${API}/rollback`, payload: { manifest, element_uuid: e.uuid, element_type: 'PAGE', reason: 'route table' } };
    },
    audit: 'rollback',
  },
  listHolds: { prepare: async () => ({ url: `${API}/holds` }) },
  liftHold: {
    prepare: async (env) => {
      const { e, manifest } = await env.app(['1.0.0', '1.1.0'], { inManifest: '1.1.0' });
      const data = await env.ok('POST', `${API}/rollback`, { manifest, element_uuid: e.uuid, element_type: 'PAGE', reason: 'route table' });
      return { url: `${API}/holds/${(data.hold as { id: string }).id}/lift`, payload: { reason: 'route table' } };
    },
    audit: 'hold.lift',
  },
  listApprovals: { prepare: async (env) => ({ url: `${API}/pull_requests/${(await env.pullRequest()).number}/approvals` }) },
  approvePullRequest: {
    prepare: async (env) => ({ url: `${API}/pull_requests/${(await env.pullRequest()).number}/approvals` }),
    audit: 'pull_request.approve',
  },
  withdrawApproval: {
    prepare: async (env) => {
      const { number } = await env.pullRequest();
      // Approved by a token of the same name as the one the table calls with (approvals are by name).
      const approver = await env.ctx.tokenFor('source_control:releases_write');
      await env.inject({ method: 'POST', url: `${API}/pull_requests/${number}/approvals`, headers: env.ctx.auth(approver) });
      return { url: `${API}/pull_requests/${number}/approvals` };
    },
    audit: 'pull_request.approval.withdraw',
  },
  getPullRequestVerdicts: { prepare: async (env) => ({ url: `${API}/pull_requests/${(await env.pullRequest()).number}/verdicts` }) },

  listInstances: { prepare: async () => ({ url: `${API}/instances` }) },
  createInstance: {
    prepare: async () => ({ url: `${API}/instances`, payload: { name: manifestName('new'), description: 'made by a route-table test' } }),
    audit: 'instance.create',
  },
  getInstance: { prepare: async (env) => ({ url: `${API}/instances/${await env.instance()}` }) },
  updateInstance: {
    prepare: async (env) => ({ url: `${API}/instances/${await env.instance()}`, payload: { description: 'changed' } }),
    audit: 'instance.update',
  },
  deleteInstance: { prepare: async (env) => ({ url: `${API}/instances/${await env.instance()}` }), audit: 'instance.delete' },
  bindInstanceManifest: {
    prepare: async (env) => ({ url: `${API}/instances/${await env.instance()}/manifest`, payload: { manifest: (await env.app()).manifest } }),
    audit: 'instance.bind',
  },
  getInstanceReleases: {
    prepare: async (env) => ({ url: `${API}/instances/${await env.instance((await env.app(['1.0.0'], { inManifest: '1.0.0' })).manifest)}/releases` }),
  },

  reportDeployment: {
    prepare: async (env) => ({ url: `${API}/instances/${await env.instance()}/deployments`, payload: { commit_sha: 'b'.repeat(40) } }),
    audit: 'deployment.report',
  },
  updateDeployment: {
    prepare: async (env) => {
      const { instance, id } = await env.deployment();
      return { url: `${API}/instances/${instance}/deployments/${id}`, payload: { status: 'SUCCESS' } };
    },
    audit: 'deployment.update',
  },
  listDeployments: { prepare: async () => ({ url: `${API}/deployments` }) },
  getDeployment: { prepare: async (env) => ({ url: `${API}/deployment/${(await env.deployment()).id}` }) },
  getInstanceDrift: { prepare: async (env) => ({ url: `${API}/instances/${await env.instance()}/drift` }) },

  createWebhookSubscription: {
    prepare: async () => ({
      url: '/api/v2/webhooks/subscriptions',
      payload: { url: 'https://hooks.example.com/new', secret: 'route-table-secret-4567', event_types: ['drift.detected'] },
    }),
    audit: 'webhook.create',
  },
  listWebhookSubscriptions: { prepare: async () => ({ url: '/api/v2/webhooks/subscriptions' }) },
  getWebhookSubscription: { prepare: async (env) => ({ url: `/api/v2/webhooks/subscriptions/${await env.subscription()}` }) },
  updateWebhookSubscription: {
    prepare: async (env) => ({ url: `/api/v2/webhooks/subscriptions/${await env.subscription()}`, payload: { active: false } }),
    audit: 'webhook.update',
  },
  deleteWebhookSubscription: { prepare: async (env) => ({ url: `/api/v2/webhooks/subscriptions/${await env.subscription()}` }), audit: 'webhook.delete' },
  listWebhookDeliveries: { prepare: async (env) => ({ url: `/api/v2/webhooks/subscriptions/${await env.subscription()}/deliveries` }) },
  replayWebhookDeliveries: {
    prepare: async (env) => ({ url: `/api/v2/webhooks/subscriptions/${await env.subscription()}/replay`, payload: {} }),
    audit: 'webhook.replay',
  },
};

interface DocumentedOperation {
  readonly operationId: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly tag: string;
  readonly secured: boolean;
  readonly dryRun: boolean;
  readonly conditional: boolean;
}

function documentedOperations(document: unknown): DocumentedOperation[] {
  const paths = (document as { paths: Record<string, Record<string, Record<string, unknown>>> }).paths;
  return Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      operationId: operation.operationId as string,
      method: method.toUpperCase() as DocumentedOperation['method'],
      path,
      tag: (operation.tags as string[])[0]!,
      secured: Array.isArray(operation.security) && operation.security.length > 0,
      dryRun: ((operation.parameters as { in: string; name: string }[] | undefined) ?? []).some((p) => p.in === 'query' && p.name === 'dry_run'),
      conditional: Object.hasOwn((operation.responses as object | undefined) ?? {}, '304'),
    })),
  );
}

/** `METHOD /path/{param}` of every route Fastify's router holds under /api/, from its printed tree. */
function routerRoutes(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S*)(?: \(([^)]*)\))?/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + match[2]!;
    stack[depth] = path;
    for (const method of match[3]?.split(', ') ?? []) {
      if (method !== 'HEAD' && path.startsWith('/api/')) out.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
    }
  }
  return out.sort();
}

const withQuery = (url: string, query: string) => `${url}${url.includes('?') ? '&' : '?'}${query}`;

t.test('route table: scopes, dry runs, audit actions, conditional GETs', async (t) => {
  const ctx = await buildTestApp(t);
  const env = new Env(ctx);
  await ctx.app.ready();
  const operations = documentedOperations(ctx.app.swagger());

  await t.test('the document and the router hold the same routes, and each is in the table', async (t) => {
    const documented = operations
      .filter((o) => o.path.startsWith('/api/'))
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    t.same(routerRoutes(ctx.app.printRoutes({ commonPrefix: false })), documented, 'no /api/ route is hidden from the document');
    for (const o of operations) {
      t.ok(ROUTES[o.operationId], `${o.operationId} (${o.method} ${o.path}) is in ROUTES: add it, with its audit action if it writes`);
      t.ok(SCOPES_BY_TAG[o.tag], `the tag ${o.tag} of ${o.operationId} is in SCOPES_BY_TAG`);
      if (o.method !== 'GET' && o.secured) t.ok(ROUTES[o.operationId]?.audit, `${o.operationId} writes: ROUTES gives its audit action`);
      t.equal(o.secured, SCOPES_BY_TAG[o.tag] !== 'public', `${o.operationId} is ${o.secured ? 'secured' : 'public'} as its tag says`);
    }
    t.ok(operations.length >= 40, `${operations.length} operations`);
  });

  const routed = operations.filter((o) => ROUTES[o.operationId] && SCOPES_BY_TAG[o.tag]);
  const secured = routed.filter((o) => o.secured && SCOPES_BY_TAG[o.tag] !== 'public' && ROUTES[o.operationId]!.scope !== 'any');
  const expectedScope = (o: DocumentedOperation) =>
    (ROUTES[o.operationId]!.scope as Scope | undefined) ?? (SCOPES_BY_TAG[o.tag] as readonly [Scope, Scope])[o.method === 'GET' ? 0 : 1];
  const tokens = new Map<string, string>();
  const tokenFor = async (scopes: Scope[]) => {
    const key = scopes.join(' ');
    if (!tokens.has(key)) tokens.set(key, await ctx.tokenFor(...scopes));
    return tokens.get(key)!;
  };
  const send = (o: DocumentedOperation, call: Call, extra: { token?: string; query?: string; headers?: Record<string, string> } = {}) =>
    env.inject({
      method: o.method,
      url: extra.query ? withQuery(call.url, extra.query) : call.url,
      headers: { ...(extra.token ? ctx.auth(extra.token) : {}), ...extra.headers },
      ...(call.payload ? { payload: call.payload } : {}),
    });
  const checks = { scope: 0, exactScope: 0, dryRun: 0, audit: 0, conditional: 0 };

  await t.test('a token lacking the route scope is refused and writes nothing; one with exactly it is let in', async (t) => {
    for (const o of secured) {
      const required = expectedScope(o);
      // Every scope that does not grant the required one (a read-only token, for a write).
      const lacking = SCOPES.filter((s) => !grants([s], required));
      const token = await tokenFor(lacking);
      const call = await ROUTES[o.operationId]!.prepare(env);
      const before = await captureState(ctx);
      const answer = await send(o, call, { token });
      t.equal(answer.statusCode, 403, `${o.operationId} with [${lacking.join(', ')}]`);
      t.match(answer.json(), { code: 'forbidden', required_scope: required }, `${o.operationId} needs ${required}`);
      t.same(stateDifferences(before, await captureState(ctx)), [], `${o.operationId}: nothing written`);
      checks.scope += 1;
      if (o.method === 'GET' && !ROUTES[o.operationId]!.stream) {
        const allowed = await send(o, await ROUTES[o.operationId]!.prepare(env), { token: await tokenFor([required]) });
        t.equal(allowed.statusCode, 200, `${o.operationId} with exactly ${required}: ${allowed.body.slice(0, 200)}`);
        checks.exactScope += 1;
      }
    }
  });

  await t.test('dry_run=true says so and writes nothing', async (t) => {
    for (const o of routed.filter((r) => r.dryRun)) {
      const call = await ROUTES[o.operationId]!.prepare(env);
      const before = await captureState(ctx);
      const answer = await send(o, call, { query: 'dry_run=true' });
      t.equal(answer.statusCode, 200, `${o.operationId}?dry_run=true: ${answer.body.slice(0, 300)}`);
      t.equal(answer.json().data?.dry_run, true, `${o.operationId}: the answer says it is a dry run`);
      t.same(stateDifferences(before, await captureState(ctx)), [], `${o.operationId}: no ref, row or audit event written`);
      checks.dryRun += 1;
    }
  });

  await t.test('a real call of each write records exactly its audit action', async (t) => {
    for (const o of secured.filter((r) => r.method !== 'GET')) {
      const expected = ROUTES[o.operationId]!.audit;
      const token = await tokenFor([expectedScope(o)]);
      const call = await ROUTES[o.operationId]!.prepare(env);
      const seen = new Set((await ctx.database.handle.db.selectFrom('audit_events').select('id').execute()).map((r) => r.id));
      const answer = await send(o, call, { token });
      t.ok(
        answer.statusCode >= 200 && answer.statusCode < 300,
        `${o.operationId} with exactly ${expectedScope(o)}: ${answer.statusCode} ${answer.body.slice(0, 300)}`,
      );
      const recorded = (await ctx.database.handle.db.selectFrom('audit_events').select(['id', 'action']).orderBy('occurred_at').execute()).filter(
        (r) => !seen.has(r.id),
      );
      t.same(
        recorded.map((r) => r.action),
        [expected],
        `${o.operationId} records ${expected}, once`,
      );
      checks.audit += 1;
    }
  });

  await t.test('If-None-Match: * is 304 on every conditional GET', async (t) => {
    for (const o of routed.filter((r) => r.conditional)) {
      const call = await ROUTES[o.operationId]!.prepare(env);
      const first = await send(o, call);
      t.equal(first.statusCode, 200, `${o.operationId}: ${first.body.slice(0, 200)}`);
      t.ok(first.headers.etag, `${o.operationId} sends an ETag`);
      const again = await send(o, call, { headers: { 'if-none-match': '*' } });
      t.equal(again.statusCode, 304, `${o.operationId} with If-None-Match: *`);
      t.equal(again.body, '', 'and no body');
      checks.conditional += 1;
    }
  });

  t.comment(
    `route table: ${routed.length} routes; ${checks.scope} scope refusals, ${checks.exactScope} exact-scope reads, ${checks.dryRun} dry runs, ${checks.audit} audited writes, ${checks.conditional} conditional GETs`,
  );
});
