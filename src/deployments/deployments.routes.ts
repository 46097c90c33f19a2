import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { EXAMPLE } from '../http/example-values.js';
import { AUTHENTICATED_ERRORS, CommitSha, ElementType, envelope, GIT_ERRORS, ok, problems, ReleaseRef, Uuid, withExamples } from '../http/schemas.js';
import type { DeploymentService } from './deployments.service.js';

const TAGS = ['Deployments'];
const API = '/api/v2/source_control';
const InstanceName = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$', description: 'An instance name' });
const Status = Type.Enum(['PENDING_START', 'RUNNING', 'SUCCESS', 'ERROR'], { description: "Retool's deployment status" });
const DeployedElement = Type.Object({ uuid: Uuid, type: ElementType, release: ReleaseRef }, { additionalProperties: false });
const Elements = Type.Array(DeployedElement, { maxItems: 100_000, description: 'What the instance runs once this deployment is done' });
const Message = Type.String({ maxLength: 2000, description: 'What the instance wants people to read (an error, a log link)' });

const Deployment = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: Status,
    commit_sha: CommitSha,
    triggered_by: Type.String({ description: 'The token that reported it' }),
    created_at: Type.String({ format: 'date-time' }),
    completed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it reached SUCCESS or ERROR' }),
    instance: Type.String(),
    elements: Type.Union([Type.Array(DeployedElement), Type.Null()], { description: 'null: the instance did not say' }),
    message: Type.Union([Type.String(), Type.Null()]),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Deployment', description: "Retool's Deployment (id, status, commit_sha, triggered_by, created_at, completed_at) and which instance, running what" },
);

const DriftElement = Type.Object({
  uuid: Uuid,
  type: ElementType,
  name: Type.Union([Type.String(), Type.Null()]),
  desired: Type.Union([ReleaseRef, Type.Null()], { description: 'What its manifest sets on the default branch; null: not in it' }),
  deployed: Type.Union([ReleaseRef, Type.Null()], { description: 'What its last successful deployment reported; null: not there, or not reported' }),
  drifted: Type.Boolean(),
  since: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Since when mir has seen them differ' }),
});

const InstanceDrift = Type.Object(
  {
    instance: Type.String(),
    manifest: Type.Union([Type.String(), Type.Null()]),
    commit_sha: CommitSha,
    drifted: Type.Boolean({ description: 'Some element differs' }),
    drifted_count: Type.Integer(),
    flagged: Type.Boolean({ description: 'Drifted, or its last deployment failed, or it was not seen for the configured time' }),
    flags: Type.Object({
      never_deployed: Type.Boolean(),
      elements_unreported: Type.Boolean({ description: 'Its last successful deployment did not say what it runs' }),
      last_deployment_failed: Type.Boolean(),
      not_seen: Type.Boolean({ description: 'It has not polled its releases for MIR_INSTANCE_STALE_SECONDS' }),
    }),
    last_seen_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    last_seen_commit: Type.Union([CommitSha, Type.Null()]),
    last_deployment: Type.Union([Type.Ref('Deployment'), Type.Null()]),
    last_successful_deployment: Type.Union([Type.Ref('Deployment'), Type.Null()]),
    elements: Type.Array(DriftElement),
  },
  { $id: 'InstanceDrift' },
);

export const deploymentSchemas = [Deployment, InstanceDrift];

const DEPLOYMENT_EXAMPLE: Static<typeof Deployment> = {
  id: EXAMPLE.deployment,
  status: 'SUCCESS',
  commit_sha: EXAMPLE.commit,
  triggered_by: 'prod-eu-agent',
  created_at: EXAMPLE.at,
  completed_at: EXAMPLE.later,
  instance: 'prod-eu',
  elements: [
    { uuid: EXAMPLE.app, type: 'PAGE', release: '1.4.1' },
    { uuid: EXAMPLE.workflow, type: 'WORKFLOW', release: 'latest' },
  ],
  message: null,
  updated_at: EXAMPLE.later,
};
const ONE = (description: string, deployment: Static<typeof Deployment>) => ({ description, example: { success: true as const, data: deployment } });
const InstanceParams = Type.Object({ name: InstanceName });
const DeploymentParams = Type.Object({ name: InstanceName, id: Type.String({ format: 'uuid' }) });

export function deploymentRoutes(deps: { deployments: DeploymentService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      `${API}/instances/:name/deployments`,
      {
        config: { scope: 'source_control:write', instance: { param: 'name', report: true } },
        schema: {
          operationId: 'reportDeployment',
          tags: TAGS,
          summary: 'Report a deployment: the commit an instance deploys, its status, and what it runs',
          description:
            "Called by the instance (with a token bound to it, or source_control:write). `status` defaults to PENDING_START; move it with PATCH …/deployments/{id}. `elements` is what the instance runs once the deployment is done: a successful deployment that lists them is what drift compares with the instance's manifest. Emits deployment.reported (and deployment.succeeded / deployment.failed, drift.detected / drift.resolved).",
          security: BEARER_SECURITY,
          params: InstanceParams,
          body: withExamples(
            Type.Object(
              { commit_sha: CommitSha, status: Type.Optional(Status), elements: Type.Optional(Elements), message: Type.Optional(Message) },
              { additionalProperties: false },
            ),
            { commit_sha: EXAMPLE.commit, status: 'RUNNING', elements: DEPLOYMENT_EXAMPLE.elements! },
          ),
          response: {
            201: envelope(
              Type.Ref('Deployment'),
              ONE('The deployment, recorded', { ...DEPLOYMENT_EXAMPLE, status: 'RUNNING', completed_at: null, updated_at: EXAMPLE.at }),
            ),
            ...problems(...AUTHENTICATED_ERRORS, ...GIT_ERRORS, 'instance_forbidden', 'instance_not_found'),
          },
        },
      },
      async (request, reply) => reply.code(201).send(ok(await deps.deployments.report(request.params.name, request.body, actorOf(request)))),
    );

    app.patch(
      `${API}/instances/:name/deployments/:id`,
      {
        config: { scope: 'source_control:write', instance: { param: 'name', report: true } },
        schema: {
          operationId: 'updateDeployment',
          tags: TAGS,
          summary: 'Move a deployment forward: PENDING_START → RUNNING → SUCCESS or ERROR',
          description:
            'A status moves forward only (409 deployment_status_invalid otherwise; RUNNING may be sent again to update `elements` or `message`). Reaching SUCCESS or ERROR sets `completed_at` and emits deployment.succeeded or deployment.failed; SUCCESS re-evaluates the drift.',
          security: BEARER_SECURITY,
          params: DeploymentParams,
          body: withExamples(
            Type.Object({ status: Status, elements: Type.Optional(Elements), message: Type.Optional(Message) }, { additionalProperties: false }),
            {
              status: 'SUCCESS',
            },
          ),
          response: {
            200: envelope(Type.Ref('Deployment'), ONE('The deployment, moved', DEPLOYMENT_EXAMPLE)),
            ...problems(
              ...AUTHENTICATED_ERRORS,
              ...GIT_ERRORS,
              'instance_forbidden',
              'instance_not_found',
              'deployment_not_found',
              'deployment_status_invalid',
            ),
          },
        },
      },
      async (request) => ok(await deps.deployments.update(request.params.name, request.params.id, request.body, actorOf(request))),
    );

    app.get(
      `${API}/deployments`,
      {
        config: { scope: 'source_control:read' },
        schema: {
          operationId: 'listDeployments',
          tags: TAGS,
          summary: 'List deployments, newest first (Retool’s list, across instances)',
          description:
            'Every reported deployment, newest first, optionally of one instance or status. `data` is the page, as in Retool; pass `next_cursor` as `cursor` for the next one (null: the last page).',
          security: BEARER_SECURITY,
          querystring: Type.Object(
            {
              instance: Type.Optional(InstanceName),
              status: Type.Optional(Status),
              cursor: Type.Optional(Type.String({ maxLength: 200 })),
              limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: {
              description: 'A page of deployments',
              content: {
                'application/json': {
                  schema: Type.Object({
                    success: Type.Literal(true),
                    data: Type.Array(Type.Ref('Deployment')),
                    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
                  }),
                  example: { success: true, data: [DEPLOYMENT_EXAMPLE], next_cursor: null },
                },
              },
            },
            ...problems(...AUTHENTICATED_ERRORS),
          },
        },
      },
      async (request) => {
        const page = await deps.deployments.list(request.query);
        return { success: true as const, data: page.deployments, next_cursor: page.next_cursor };
      },
    );

    app.get(
      `${API}/deployment/:id`,
      {
        config: { scope: 'source_control:read' },
        schema: {
          operationId: 'getDeployment',
          tags: TAGS,
          summary: 'Get one deployment (Retool’s path)',
          description: "Retool's Deployment fields, plus the instance that reported it, what it said it runs, and its message.",
          security: BEARER_SECURITY,
          params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
          response: {
            200: envelope(Type.Ref('Deployment'), ONE('The deployment', DEPLOYMENT_EXAMPLE)),
            ...problems(...AUTHENTICATED_ERRORS, 'deployment_not_found'),
          },
        },
      },
      async (request) => ok(await deps.deployments.get(request.params.id)),
    );

    app.get(
      `${API}/instances/:name/drift`,
      {
        config: { scope: 'source_control:read', instance: { param: 'name' } },
        schema: {
          operationId: 'getInstanceDrift',
          tags: TAGS,
          summary: 'Drift: what the manifest sets now against what the last successful deployment reported',
          description:
            'Every element of the instance’s manifest on the default branch or of its last successful deployment, with both releases and since when they differ. `flagged` when it drifts, its last deployment failed, or it has not polled its releases for MIR_INSTANCE_STALE_SECONDS.',
          security: BEARER_SECURITY,
          params: InstanceParams,
          response: {
            200: envelope(Type.Ref('InstanceDrift'), {
              description: 'The drift of the instance',
              example: {
                success: true,
                data: {
                  instance: 'prod-eu',
                  manifest: 'prod',
                  commit_sha: EXAMPLE.mergeCommit,
                  drifted: true,
                  drifted_count: 1,
                  flagged: true,
                  flags: { never_deployed: false, elements_unreported: false, last_deployment_failed: false, not_seen: false },
                  last_seen_at: EXAMPLE.later,
                  last_seen_commit: EXAMPLE.mergeCommit,
                  last_deployment: DEPLOYMENT_EXAMPLE,
                  last_successful_deployment: DEPLOYMENT_EXAMPLE,
                  elements: [
                    { uuid: EXAMPLE.app, type: 'PAGE', name: EXAMPLE.appName, desired: '1.4.2', deployed: '1.4.1', drifted: true, since: EXAMPLE.later },
                    {
                      uuid: EXAMPLE.workflow,
                      type: 'WORKFLOW',
                      name: EXAMPLE.workflowName,
                      desired: 'latest',
                      deployed: 'latest',
                      drifted: false,
                      since: null,
                    },
                  ],
                },
              },
            }),
            ...problems(...AUTHENTICATED_ERRORS, ...GIT_ERRORS, 'instance_forbidden', 'instance_not_found'),
          },
        },
      },
      async (request) => ok(await deps.deployments.drift(request.params.name)),
    );
  };
}
