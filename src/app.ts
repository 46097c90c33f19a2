// buildApp(deps): the whole HTTP service, wired explicitly from its dependencies. It never
// listens (src/server.ts does), so tests build the real thing and use `app.inject`.
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type Options as AjvOptions } from 'ajv';
import addFormatsModule from 'ajv-formats';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TSchema } from 'typebox';
import { auditRoutes, auditSchemas } from './audit/audit.routes.js';
import { createAuditService, type AuditService } from './audit/audit.service.js';
import type { Config } from './config.js';
import { errors, hasCode } from './errors.js';
import type { DatabaseHandle } from './db/client.js';
import { createAdvisoryLock } from './db/lock.js';
import { registerAuth } from './http/auth.js';
import { registerCors } from './http/cors.js';
import { registerErrorHandling, sendProblem } from './http/error-handler.js';
import { registerInputChecks } from './http/input-checks.js';
import { healthRoutes, type ReadinessCheck } from './http/health.routes.js';
import { registerMetrics } from './http/metrics.js';
import { registerOpenApi } from './http/openapi.js';
import { sharedSchemas } from './http/schemas.js';
import { sharedSerializerCompiler } from './http/serializers.js';
import { createLogger, type Logger } from './logger.js';
import type { StartupState } from './runtime/startup.js';
import type { GitWorker } from './git/types.js';
import { hotfixRoutes, hotfixSchemas } from './hotfixes/hotfixes.routes.js';
import { createHotfixService, type HotfixService } from './hotfixes/hotfixes.service.js';
import { instanceRoutes, instanceSchemas } from './instances/instances.routes.js';
import { createInstanceService, type InstanceService } from './instances/instances.service.js';
import { manifestRoutes, manifestSchemas } from './manifests/manifests.routes.js';
import { publishRoutes } from './publish/publish.routes.js';
import { createPublishService, type PublishService } from './publish/publish.service.js';
import { createArtifactCatalog, type ArtifactCatalog } from './releases/artifact-catalog.js';
import { createArtifactWarmer, registerWarmerMetrics, type ArtifactWarmer } from './releases/artifact-warmer.js';
import { createReleaseMatrix, type ReleaseMatrix } from './releases/release-matrix.js';
import { releaseRoutes, releaseSchemas } from './releases/releases.routes.js';
import { createReleaseService, type ReleaseService } from './releases/releases.service.js';
import { createManifestService, type ManifestService } from './manifests/manifests.service.js';
import { createBuiltinProvider } from './providers/builtin/builtin-provider.js';
import { createForgeProvider } from './providers/forge/forge.js';
import type { ForgeProvider } from './providers/types.js';
import { pullRequestRoutes } from './pull-requests/pull-requests.routes.js';
import { pullRequestSchemas } from './pull-requests/pull-requests.schemas.js';
import { createPullRequestService, type PullRequestService } from './pull-requests/pull-requests.service.js';
import { createPullRequestSync, type PullRequestSync } from './pull-requests/pull-requests.sync.js';
import { createOrphanSweeper, type OrphanSweeper } from './pull-requests/orphans.js';
import { webhookRoutes } from './pull-requests/webhooks.routes.js';
import { tokenRoutes, tokenSchemas } from './tokens/tokens.routes.js';
import { createTokenService, type TokenService } from './tokens/tokens.service.js';

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on `.default`.
const addFormats = addFormatsModule as unknown as { default: (ajv: Ajv) => Ajv };

/** How often the artifact warmer looks for a new head of the default branch (a cheap comparison). */
const WARM_INTERVAL_MS = 2_000;

export interface AppDeps {
  readonly config: Config;
  readonly database: DatabaseHandle;
  /** Started by the caller (src/server.ts), who also closes it after the app. */
  readonly git: GitWorker;
  readonly logger?: Logger;
  /** Overrides, for tests that need to observe or replace one service. */
  readonly services?: Partial<Services>;
  /** Set while the process is still starting (src/runtime/startup.ts); unset: ready. */
  readonly startup?: StartupState;
}

export interface Services {
  readonly audit: AuditService;
  readonly tokens: TokenService;
  readonly pullRequests: PullRequestService;
  readonly pullRequestSync: PullRequestSync;
  readonly manifests: ManifestService;
  readonly artifacts: ArtifactCatalog;
  readonly warmer: ArtifactWarmer;
  readonly releases: ReleaseService;
  readonly matrix: ReleaseMatrix;
  readonly publish: PublishService;
  readonly hotfixes: HotfixService;
  readonly instances: InstanceService;
  readonly sweeper: OrphanSweeper;
}

export type App = FastifyInstance & { readonly services: Services };

export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, database } = deps;
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    // A caller's request id is kept when it is sane, so one id follows a request across services.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
    // The router's own refusals (a malformed percent-encoding, a path parameter over its length
    // limit) come before any hook: they too are problem documents from the catalog.
    frameworkErrors: (error, request, reply) => void sendProblem(request, reply, errors.badRequest(error.message)),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const forge = deps.config.provider.name === 'builtin' ? null : createForge(deps);
  const services = buildServices(deps, logger, forge);
  const schemas: TSchema[] = [
    ...sharedSchemas,
    ...tokenSchemas,
    ...auditSchemas,
    ...pullRequestSchemas,
    ...manifestSchemas,
    ...releaseSchemas,
    ...hotfixSchemas,
    ...instanceSchemas,
  ];
  useStrictValidation(app, schemas);
  app.setSerializerCompiler(sharedSerializerCompiler(schemas));
  registerInputChecks(app);
  // Callback style, not async: these run on every request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Before the start-up gate and authentication: a preflight is answered before either, and their
  // 503 and 401 answers carry the CORS headers a page needs to read them.
  await registerCors(app, config.corsOrigins);
  const startup = deps.startup;
  app.addHook('onRequest', (request, _reply, done) => {
    // Until start-up is done the API waits (503 with Retry-After); health, metrics and docs answer.
    if (startup && !startup.ready && request.url.startsWith('/api/')) return done(errors.notReady({ startup: startup.reason }));
    done();
  });

  registerErrorHandling(app, config.bodyLimitBytes);
  registerAuth(app, services.tokens);
  await registerOpenApi(app);
  const metrics = registerMetrics(app, () => [services.artifacts, services.instances, services.tokens].flatMap((service) => service.cacheStats()));
  registerWarmerMetrics(metrics, services.warmer, deps.git);

  const checks: ReadinessCheck[] = [
    ...(startup ? [{ name: 'startup', check: () => (startup.ready ? Promise.resolve() : Promise.reject(new Error(startup.reason))) }] : []),
    { name: 'database', check: () => database.ping() },
    { name: 'git', check: () => deps.git.check() },
    // The forge answers and accepts the token (its errors name it: "github refused the token: …").
    ...(forge?.check ? [{ name: 'provider', check: () => forge.check!() }] : []),
  ];
  await app.register(healthRoutes({ checks }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(tokenRoutes({ tokens: services.tokens }));
  await app.register(auditRoutes({ audit: services.audit }));
  await app.register(manifestRoutes({ manifests: services.manifests }));
  await app.register(pullRequestRoutes({ pullRequests: services.pullRequests, sync: services.pullRequestSync }));
  await app.register(webhookRoutes({ sync: services.pullRequestSync }));
  app.addHook('onReady', () => services.pullRequestSync.start());
  app.addHook('onClose', () => services.pullRequestSync.stop());
  // Started by the process once it is ready (src/server.ts); tests sweep and warm by hand.
  app.addHook('onClose', () => services.sweeper.stop());
  app.addHook('onClose', () => services.warmer.stop());
  await app.register(releaseRoutes({ releases: services.releases, matrix: services.matrix }));
  await app.register(publishRoutes({ publish: services.publish }));
  await app.register(hotfixRoutes({ hotfixes: services.hotfixes }));
  await app.register(instanceRoutes({ instances: services.instances }));

  return Object.assign(app, { services }) as unknown as App;
}

function createForge(deps: AppDeps): ForgeProvider {
  const config = deps.config.provider;
  if (config.name === 'builtin') throw new Error('createForge needs a forge provider');
  return createForgeProvider({
    config,
    defaultBranch: deps.git.defaultBranch,
    deleteBranch: async (branch) => {
      try {
        await deps.git.deleteBranch({ branch });
      } catch (error) {
        if (!hasCode(error, 'branch_not_found')) throw error;
      }
    },
  });
}

function buildServices(deps: AppDeps, logger: Logger, forge: ForgeProvider | null): Services {
  const db = deps.database.db;
  const audit = deps.services?.audit ?? createAuditService({ db });
  const tokens =
    deps.services?.tokens ??
    createTokenService({
      db,
      audit,
      bootstrapLock: createAdvisoryLock(deps.database, 'mir:bootstrap-admin-token'),
      onTouchError: (error) => logger.warn({ err: error }, 'could not record token use'),
    });
  const baseUrl = deps.config.publicUrl ?? `http://${deps.config.host}:${deps.config.port}`;
  const pullRequests =
    deps.services?.pullRequests ??
    createPullRequestService({
      db,
      git: deps.git,
      audit,
      baseUrl,
      createProvider: (service) =>
        forge ?? createBuiltinProvider({ db, git: deps.git, url: service.pullRequestUrl, applyToDefaultBranch: service.applyToDefaultBranch }),
    });
  const artifacts = deps.services?.artifacts ?? createArtifactCatalog({ db, git: deps.git });
  const manifests = deps.services?.manifests ?? createManifestService({ git: deps.git, pullRequests, artifacts, config: deps.config });
  const releases = deps.services?.releases ?? createReleaseService({ git: deps.git, pullRequests, catalog: artifacts, config: deps.config });
  const matrix = deps.services?.matrix ?? createReleaseMatrix({ git: deps.git, pullRequests });
  const publish = deps.services?.publish ?? createPublishService({ git: deps.git, pullRequests, artifacts, config: deps.config });
  const hotfixes = deps.services?.hotfixes ?? createHotfixService({ db, git: deps.git, audit, pullRequests, releases });
  const instances = deps.services?.instances ?? createInstanceService({ db, git: deps.git, audit, artifacts, baseUrl });
  const provider = deps.config.provider;
  const pullRequestSync =
    deps.services?.pullRequestSync ??
    createPullRequestSync({
      db,
      git: deps.git,
      audit,
      pullRequests,
      forge,
      webhookSecret: provider.name === 'builtin' ? undefined : provider.webhookSecret,
      pollSeconds: provider.name === 'builtin' ? 0 : provider.pollSeconds,
      logger: logger.child({ component: 'pull-requests' }),
    });
  const sweeper =
    deps.services?.sweeper ??
    createOrphanSweeper({
      db,
      git: deps.git,
      audit,
      branchPrefix: deps.config.git.branchPrefix,
      graceMs: deps.config.sweep.graceMs,
      intervalMs: deps.config.sweep.intervalMs,
      logger: logger.child({ component: 'sweeper' }),
    });
  const warmer =
    deps.services?.warmer ??
    createArtifactWarmer({ git: deps.git, catalog: artifacts, intervalMs: WARM_INTERVAL_MS, logger: logger.child({ component: 'artifacts' }) });
  return { audit, tokens, pullRequests, manifests, artifacts, warmer, instances, releases, matrix, publish, hotfixes, pullRequestSync, sweeper };
}

/**
 * Two Ajv instances: bodies are validated exactly (no type coercion, unknown fields rejected rather
 * than silently removed, which is Fastify's default), while path, query and header values, which
 * arrive as strings, are coerced to the declared types. allErrors lists every bad field at once.
 */
function useStrictValidation(app: FastifyInstance, schemas: readonly TSchema[]): void {
  const common: AjvOptions = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false };
  const body = addFormats.default(new Ajv({ ...common, coerceTypes: false }));
  const other = addFormats.default(new Ajv({ ...common, coerceTypes: 'array' }));
  for (const schema of schemas) {
    app.addSchema(schema);
    body.addSchema(schema);
    other.addSchema(schema);
  }
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : other).compile(schema));
}
