// Every domain of the service in one list: the service it provides, how that service is made from
// the process's dependencies and the other services, its shared schemas, its routes, and what it
// starts and stops. Adding a domain is adding an entry here. src/app.ts builds the services from
// this list and registers the routes in its order (which is also the order of the OpenAPI paths).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { TSchema } from 'typebox';
import { auditRoutes, auditSchemas } from './audit/audit.routes.js';
import { createAuditService, type AuditService } from './audit/audit.service.js';
import type { Config } from './config.js';
import { createAdvisoryLock } from './db/lock.js';
import type { DatabaseHandle } from './db/client.js';
import type { Tables } from './db/database.js';
import type { GitGateway } from './git/types.js';
import { hotfixRoutes, hotfixSchemas } from './hotfixes/hotfixes.routes.js';
import { createHotfixService, type HotfixService } from './hotfixes/hotfixes.service.js';
import { instanceRoutes, instanceSchemas } from './instances/instances.routes.js';
import { createInstanceService, type InstanceService } from './instances/instances.service.js';
import type { Logger } from './logger.js';
import { manifestRoutes, manifestSchemas } from './manifests/manifests.routes.js';
import { createManifestService, type ManifestService } from './manifests/manifests.service.js';
import { createBuiltinProvider } from './providers/builtin/builtin-provider.js';
import type { ForgeProvider } from './providers/types.js';
import { createHoldService, type HoldService } from './promotion/holds.service.js';
import { promotionRoutes } from './promotion/promotion.routes.js';
import { promotionSchemas } from './promotion/promotion.schemas.js';
import { createPromotionService, type PromotionService } from './promotion/promotion.service.js';
import { createApprovalService, type ApprovalService } from './policy/approvals.service.js';
import { policyRoutes } from './policy/policy.routes.js';
import { createPolicyService, type PolicyService } from './policy/policy.service.js';
import { publishRoutes } from './publish/publish.routes.js';
import { createPublishService, type PublishService } from './publish/publish.service.js';
import { createOrphanSweeper, type OrphanSweeper } from './pull-requests/orphans.js';
import { pullRequestRoutes } from './pull-requests/pull-requests.routes.js';
import { pullRequestSchemas } from './pull-requests/pull-requests.schemas.js';
import { createPullRequestService, type PullRequestService } from './pull-requests/pull-requests.service.js';
import { createPullRequestSync, type PullRequestSync } from './pull-requests/pull-requests.sync.js';
import { webhookRoutes } from './pull-requests/webhooks.routes.js';
import { deploymentRoutes, deploymentSchemas } from './deployments/deployments.routes.js';
import { createDeploymentService, type DeploymentService } from './deployments/deployments.service.js';
import { createDispatcher, type Dispatcher } from './events/dispatcher.js';
import { createEventPublisher, type EventPublisher } from './events/events.service.js';
import { createEventStreamHub, type EventStreamHub } from './events/event-stream.js';
import { eventStreamRoutes } from './events/event-stream.routes.js';
import { subscriptionRoutes, subscriptionSchemas } from './events/subscriptions.routes.js';
import { createSubscriptionService, type SubscriptionService } from './events/subscriptions.service.js';
import { createArtifactCatalog, type ArtifactCatalog } from './releases/artifact-catalog.js';
import { createArtifactWarmer, type ArtifactWarmer } from './releases/artifact-warmer.js';
import { createReleaseMatrix, type ReleaseMatrix } from './releases/release-matrix.js';
import { releaseRoutes, releaseSchemas } from './releases/releases.routes.js';
import { createReleaseService, type ReleaseService } from './releases/releases.service.js';
import { createSnapshots, type Snapshots } from './snapshots/snapshots.js';
import { tokenRoutes, tokenSchemas } from './tokens/tokens.routes.js';
import { createTokenService, type TokenService } from './tokens/tokens.service.js';

/** How often the artifact warmer looks for a new head of the default branch (a cheap comparison). */
const WARM_INTERVAL_MS = 2_000;

export interface Services {
  readonly snapshots: Snapshots;
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
  readonly events: EventPublisher;
  readonly deployments: DeploymentService;
  readonly subscriptions: SubscriptionService;
  readonly dispatcher: Dispatcher;
  readonly eventStream: EventStreamHub;
  readonly holds: HoldService;
  readonly promotion: PromotionService;
  readonly policy: PolicyService;
  readonly approvals: ApprovalService;
}

/** What every module is made from: the process's dependencies, never a global. */
export interface ModuleContext {
  readonly config: Config;
  readonly database: DatabaseHandle;
  readonly db: Kysely<Tables>;
  readonly git: GitGateway;
  readonly logger: Logger;
  /** The forge pull requests live on; null with the builtin provider. */
  readonly forge: ForgeProvider | null;
  /** Where this service is reached, for links in pull requests and instance answers. */
  readonly baseUrl: string;
  /** The time policies are judged at (freeze windows, soak); tests hand in their own. */
  readonly clock: () => Date;
}

export interface DomainModule<K extends keyof Services = keyof Services> {
  readonly name: K;
  /** `services` holds every other service, made on first use (the order here does not matter). */
  readonly create: (context: ModuleContext, services: Services) => Services[K];
  readonly schemas?: readonly TSchema[];
  readonly routes?: (services: Services) => FastifyPluginAsyncTypebox;
  /** Background work: started by `app.startBackground()` (src/app.ts says when), stopped by onClose. */
  readonly start?: (services: Services) => Promise<void> | void;
  readonly onClose?: (services: Services) => Promise<void> | void;
}

function module<K extends keyof Services>(definition: DomainModule<K>): DomainModule<K> {
  return definition;
}

export const MODULES: readonly DomainModule[] = [
  module({ name: 'snapshots', create: ({ git }) => createSnapshots(git) }),
  module({ name: 'events', create: ({ clock }) => createEventPublisher({ clock }) }),
  module({
    name: 'tokens',
    schemas: tokenSchemas,
    routes: ({ tokens }) => tokenRoutes({ tokens }),
    create: ({ db, database, logger }, { audit }) =>
      createTokenService({
        db,
        audit,
        bootstrapLock: createAdvisoryLock(database, 'mir:bootstrap-admin-token'),
        onTouchError: (error) => logger.warn({ err: error }, 'could not record token use'),
      }),
  }),
  module({ name: 'audit', schemas: auditSchemas, routes: ({ audit }) => auditRoutes({ audit }), create: ({ db }) => createAuditService({ db }) }),
  module({
    name: 'pullRequests',
    schemas: pullRequestSchemas,
    create: ({ db, git, forge, baseUrl }, { snapshots, audit, events }) =>
      createPullRequestService({
        db,
        git,
        snapshots,
        audit,
        events,
        baseUrl,
        createProvider: (service) =>
          forge ?? createBuiltinProvider({ db, git, url: service.pullRequestUrl, applyToDefaultBranch: service.applyToDefaultBranch }),
      }),
  }),
  module({
    name: 'manifests',
    schemas: manifestSchemas,
    routes: ({ manifests }) => manifestRoutes({ manifests }),
    create: ({ git, config }, { snapshots, pullRequests, artifacts }) => createManifestService({ git, snapshots, pullRequests, artifacts, config }),
  }),
  module({
    name: 'pullRequestSync',
    // The pull request routes need both pull request services, so they come with the second one
    // (after the manifests' routes: the OpenAPI paths keep their order).
    routes:
      ({ pullRequests, pullRequestSync }) =>
      async (app) => {
        await app.register(pullRequestRoutes({ pullRequests, sync: pullRequestSync }));
        await app.register(webhookRoutes({ sync: pullRequestSync }));
      },
    start: ({ pullRequestSync }) => pullRequestSync.start(),
    onClose: ({ pullRequestSync }) => pullRequestSync.stop(),
    create: ({ db, git, forge, config, logger }, { snapshots, audit, events, pullRequests }) => {
      const provider = config.provider;
      return createPullRequestSync({
        db,
        git,
        snapshots,
        audit,
        events,
        pullRequests,
        forge,
        webhookSecret: provider.name === 'builtin' ? undefined : provider.webhookSecret,
        pollSeconds: provider.name === 'builtin' ? 0 : provider.pollSeconds,
        logger: logger.child({ component: 'pull-requests' }),
      });
    },
  }),
  // Started by the process once it is ready (src/server.ts); tests sweep and warm by hand.
  module({
    name: 'sweeper',
    onClose: ({ sweeper }) => sweeper.stop(),
    create: ({ db, git, config, logger }, { audit }) =>
      createOrphanSweeper({
        db,
        git,
        audit,
        branchPrefix: config.git.branchPrefix,
        graceMs: config.sweep.graceMs,
        intervalMs: config.sweep.intervalMs,
        logger: logger.child({ component: 'sweeper' }),
      }),
  }),
  module({ name: 'artifacts', create: ({ db, git }) => createArtifactCatalog({ db, git }) }),
  module({
    name: 'warmer',
    onClose: ({ warmer }) => warmer.stop(),
    create: ({ git, logger }, { snapshots, artifacts }) =>
      createArtifactWarmer({ git, snapshots, catalog: artifacts, intervalMs: WARM_INTERVAL_MS, logger: logger.child({ component: 'artifacts' }) }),
  }),
  module({
    name: 'matrix',
    create: (_context, services) =>
      createReleaseMatrix({
        snapshots: services.snapshots,
        pullRequests: services.pullRequests,
        holds: () => services.holds.activeByElement(),
        deployments: services.deployments,
      }),
  }),
  module({
    name: 'releases',
    schemas: releaseSchemas,
    routes: ({ releases, matrix }) => releaseRoutes({ releases, matrix }),
    create: ({ git, config }, services) =>
      createReleaseService({
        git,
        config,
        snapshots: services.snapshots,
        pullRequests: services.pullRequests,
        catalog: services.artifacts,
        holds: () => services.holds.activeByElement(),
      }),
  }),
  module({
    name: 'publish',
    routes: ({ publish }) => publishRoutes({ publish }),
    create: ({ git, config }, { snapshots, pullRequests, artifacts }) => createPublishService({ git, snapshots, pullRequests, artifacts, config }),
  }),
  module({
    name: 'hotfixes',
    schemas: hotfixSchemas,
    routes: ({ hotfixes }) => hotfixRoutes({ hotfixes }),
    create: ({ db, git }, { snapshots, audit, events, pullRequests, releases }) =>
      createHotfixService({ db, git, snapshots, audit, events, pullRequests, releases }),
  }),
  module({
    name: 'instances',
    schemas: instanceSchemas,
    routes: ({ instances }) => instanceRoutes({ instances }),
    create: ({ db, baseUrl, clock, logger }, { snapshots, audit, artifacts, events }) =>
      createInstanceService({ db, snapshots, audit, artifacts, events, baseUrl, clock, logger: logger.child({ component: 'instances' }) }),
  }),
  module({
    name: 'deployments',
    schemas: deploymentSchemas,
    routes: ({ deployments }) => deploymentRoutes({ deployments }),
    start: ({ deployments }) => deployments.start(),
    onClose: ({ deployments }) => deployments.stop(),
    create: ({ db, config, clock, logger }, { snapshots, audit, events }) =>
      createDeploymentService({
        db,
        snapshots,
        audit,
        events,
        clock,
        staleAfterMs: config.deployments.staleAfterMs,
        evaluateEveryMs: config.deployments.driftCheckMs,
        logger: logger.child({ component: 'deployments' }),
      }),
  }),
  module({
    name: 'subscriptions',
    schemas: subscriptionSchemas,
    routes: ({ subscriptions }) => subscriptionRoutes({ subscriptions }),
    create: ({ db, clock }, { audit }) => createSubscriptionService({ db, audit, clock }),
  }),
  // Last to stop: the services that write events close first, then the in-flight deliveries finish.
  module({
    name: 'dispatcher',
    start: ({ dispatcher }) => dispatcher.start(),
    onClose: ({ dispatcher }) => dispatcher.stop(),
    create: ({ db, clock, config, logger }) => createDispatcher({ db, clock, settings: config.webhooks, logger: logger.child({ component: 'webhooks' }) }),
  }),
  module({
    name: 'eventStream',
    routes: ({ eventStream, tokens }) => eventStreamRoutes({ stream: eventStream, tokens }),
    // The routes end every stream in preClose already (the server waits for them); this is for an app never listened on.
    onClose: ({ eventStream }) => eventStream.endAll(),
    create: ({ db, config, logger }) => createEventStreamHub({ db, settings: config.events, logger: logger.child({ component: 'event-stream' }) }),
  }),
  // Holds before policy: their gates run in this order on every proposal and merge.
  module({ name: 'holds', create: ({ db }, { audit, events, pullRequests }) => createHoldService({ db, audit, events, pullRequests }) }),
  module({ name: 'policy', create: ({ db, git, clock }, { pullRequests }) => createPolicyService({ db, git, pullRequests, clock }) }),
  module({
    name: 'approvals',
    routes: ({ approvals, pullRequests }) => policyRoutes({ approvals, pullRequests }),
    create: ({ db }, { audit, pullRequests }) => createApprovalService({ db, audit, pullRequests }),
  }),
  module({
    name: 'promotion',
    schemas: promotionSchemas,
    routes: ({ promotion, holds }) => promotionRoutes({ promotion, holds }),
    create: ({ git, config }, { snapshots, pullRequests, artifacts, holds, instances }) =>
      createPromotionService({
        git,
        snapshots,
        pullRequests,
        artifacts,
        holds,
        config,
        instanceManifest: async (name) => (await instances.get(name)).manifest,
      }),
  }),
];

/**
 * The services of every module, each made once, on first use by another module or here: so a
 * module names what it needs rather than where it sits in the list. `overrides` replace a service
 * (tests that observe or replace one).
 */
export function createServices(context: ModuleContext, overrides: Partial<Services> = {}): Services {
  const services = {} as Services;
  const made = new Map<keyof Services, unknown>();
  const making = new Set<keyof Services>();
  for (const definition of MODULES) {
    const { name } = definition;
    Object.defineProperty(services, name, {
      enumerable: true,
      get() {
        if (made.has(name)) return made.get(name);
        if (making.has(name)) throw new Error(`module ${name} needs itself: ${[...making].join(' → ')} → ${name}`);
        making.add(name);
        try {
          made.set(name, overrides[name] ?? definition.create(context, services));
        } finally {
          making.delete(name);
        }
        return made.get(name);
      },
    });
  }
  // Every service now, so a wiring mistake fails at start-up rather than on the first request.
  for (const definition of MODULES) void services[definition.name];
  return services;
}
