// buildApp(deps): the whole HTTP service, wired explicitly from its dependencies. It never
// listens (src/server.ts does), so tests build the real thing and use `app.inject`.
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Gauge } from 'prom-client';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TSchema } from 'typebox';
import type { Config } from './config.js';
import { errors, hasCode } from './errors.js';
import type { DatabaseHandle } from './db/client.js';
import { registerAuth } from './http/auth.js';
import { registerCors } from './http/cors.js';
import { registerErrorHandling, sendProblem } from './http/error-handler.js';
import { registerInputChecks } from './http/input-checks.js';
import { healthRoutes, type ReadinessCheck } from './http/health.routes.js';
import { registerMetrics } from './http/metrics.js';
import { registerOpenApi } from './http/openapi.js';
import { sharedSchemas } from './http/schemas.js';
import { sharedSerializerCompiler } from './http/serializers.js';
import { registerUi } from './http/ui.js';
import { sharedValidatorCompiler } from './http/validators.js';
import { createLogger, type Logger } from './logger.js';
import type { StartupState } from './runtime/startup.js';
import type { GitGateway } from './git/types.js';
import { registerWarmerMetrics } from './releases/artifact-warmer.js';
import { registerDeploymentMetrics } from './deployments/deployment-metrics.js';
import { createForgeProvider } from './providers/forge/forge.js';
import type { ForgeProvider } from './providers/types.js';
import { createServices, MODULES, type ModuleContext, type Services } from './modules.js';

export interface AppDeps {
  readonly config: Config;
  readonly database: DatabaseHandle;
  /** Started by the caller (src/server.ts), who also closes it after the app. */
  readonly git: GitGateway;
  readonly logger?: Logger;
  /** Overrides, for tests that need to observe or replace one service. */
  readonly services?: Partial<Services>;
  /** The time (policies, webhook retries, drift, last contact); unset: the system clock. */
  readonly clock?: () => Date;
  /** Set while the process is still starting (src/runtime/startup.ts); unset: ready. */
  readonly startup?: StartupState;
}

export type { Services } from './modules.js';

export type App = FastifyInstance & {
  readonly services: Services;
  /**
   * Starts the modules' background work (forge sync, drift, webhook dispatch). An app built with a
   * `startup` (the server) waits for this call, made once migrations and the repository are done:
   * started at listen, a round would run against tables that do not exist yet. Otherwise it starts
   * when the app is ready.
   */
  startBackground(): Promise<void>;
};

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
  const context: ModuleContext = {
    config,
    database,
    db: database.db,
    git: deps.git,
    logger,
    forge,
    baseUrl: config.publicUrl ?? `http://${config.host}:${config.port}`,
    clock: deps.clock ?? (() => new Date()),
  };
  const services = createServices(context, deps.services);
  const schemas: TSchema[] = [...sharedSchemas, ...MODULES.flatMap((module) => module.schemas ?? [])];
  for (const schema of schemas) app.addSchema(schema);
  app.setValidatorCompiler(sharedValidatorCompiler(schemas));
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
  // The release dashboard's files (/ui/); the page talks to mir through the API below, like any client.
  await registerUi(app, config.uiDir, logger);
  const metrics = registerMetrics(app, () =>
    [services.artifacts, services.instances, services.tokens, deps.git.objects()].flatMap((cache) => cache.cacheStats()),
  );
  registerWarmerMetrics(metrics, services.warmer, deps.git);
  registerDeploymentMetrics(metrics, services.deployments, context.clock);
  new Gauge({
    name: 'mir_event_streams',
    help: 'Event streams (GET /api/v2/source_control/events) open in this process',
    registers: [metrics],
    collect() {
      this.set(services.eventStream.size());
    },
  });

  const checks: ReadinessCheck[] = [
    ...(startup ? [{ name: 'startup', check: () => (startup.ready ? Promise.resolve() : Promise.reject(new Error(startup.reason))) }] : []),
    { name: 'database', check: () => database.ping() },
    { name: 'git', check: () => deps.git.check() },
    // The forge answers and accepts the token (its errors name it: "github refused the token: …").
    ...(forge?.check ? [{ name: 'provider', check: () => forge.check!() }] : []),
  ];
  await app.register(healthRoutes({ checks }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  for (const module of MODULES) {
    if (module.routes) await app.register(module.routes(services));
    const { onClose } = module;
    if (onClose) app.addHook('onClose', () => onClose(services));
  }
  let started: Promise<void> | undefined;
  const startBackground = () =>
    (started ??= (async () => {
      for (const module of MODULES) await module.start?.(services);
    })());
  if (!startup) app.addHook('onReady', startBackground);

  return Object.assign(app, { services, startBackground });
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
