import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { actorOf, BEARER_SECURITY } from '../http/auth.js';
import { EXAMPLE } from '../http/example-values.js';
import { AUTHENTICATED_ERRORS, envelope, ok, problems, withExamples } from '../http/schemas.js';
import { EVENT_TYPES } from './event-types.js';
import type { SubscriptionService } from './subscriptions.service.js';

const TAGS = ['Event webhooks'];
const ADMIN = { scope: 'admin' } as const;
const BASE = '/api/v2/webhooks/subscriptions';
const EventTypeSchema = Type.Enum([...EVENT_TYPES], { description: 'An event type' });
const EventTypes = Type.Array(EventTypeSchema, { minItems: 1, maxItems: EVENT_TYPES.length });
const Url = Type.String({ format: 'uri', maxLength: 2000, description: 'Where deliveries are POSTed (http or https)' });
const Secret = Type.String({ minLength: 16, maxLength: 200, description: 'Signs every delivery (HMAC-SHA256); write-only: never returned' });
const Description = Type.String({ maxLength: 1000 });
const DeliveryState = Type.Enum(['pending', 'delivered', 'dead']);

const Subscription = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    url: Type.String(),
    event_types: Type.Array(EventTypeSchema),
    active: Type.Boolean(),
    description: Type.String(),
    created_by: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'WebhookSubscription', description: 'Where events go; its secret is never shown' },
);

const Attempt = Type.Object(
  {
    event_id: Type.String({ format: 'uuid' }),
    event_type: Type.String(),
    attempt: Type.Integer({ minimum: 1 }),
    status: Type.Enum(['delivered', 'failed', 'timeout']),
    response_code: Type.Union([Type.Integer(), Type.Null()]),
    response_excerpt: Type.Union([Type.String(), Type.Null()], { description: 'The first 1,000 characters the receiver answered' }),
    duration_ms: Type.Integer(),
    attempted_at: Type.String({ format: 'date-time' }),
    delivery_state: DeliveryState,
  },
  { $id: 'WebhookAttempt', description: 'One attempt to deliver an event, and where its delivery stands now' },
);

export const subscriptionSchemas = [Subscription, Attempt];

const EXAMPLE_SUBSCRIPTION: Static<typeof Subscription> = {
  id: EXAMPLE.subscription,
  url: 'https://hooks.example.com/mir',
  event_types: ['deployment.failed', 'drift.detected'],
  active: true,
  description: 'On-call alerts',
  created_by: 'admin',
  created_at: EXAMPLE.at,
  updated_at: EXAMPLE.at,
};
const ONE = (description: string, subscription = EXAMPLE_SUBSCRIPTION) => ({ description, example: { success: true as const, data: { subscription } } });
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export function subscriptionRoutes(deps: { subscriptions: SubscriptionService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      BASE,
      {
        config: ADMIN,
        schema: {
          operationId: 'createWebhookSubscription',
          tags: TAGS,
          summary: 'Subscribe a URL to events',
          description:
            'Every event of the listed types written from now on is POSTed to `url`, signed with `secret` (X-Mir-Signature-256, README → Outbound webhooks), retried with backoff, and dead-lettered after MIR_WEBHOOK_MAX_ATTEMPTS. The secret is never returned.',
          security: BEARER_SECURITY,
          body: withExamples(
            Type.Object(
              { url: Url, secret: Secret, event_types: EventTypes, active: Type.Optional(Type.Boolean()), description: Type.Optional(Description) },
              { additionalProperties: false },
            ),
            {
              url: EXAMPLE_SUBSCRIPTION.url,
              secret: 'whsec-7b1f0c2e9d4a6b8c',
              event_types: ['deployment.failed', 'drift.detected'],
              description: 'On-call alerts',
            },
          ),
          response: {
            201: envelope(Type.Object({ subscription: Type.Ref('WebhookSubscription') }), ONE('The subscription')),
            ...problems(...AUTHENTICATED_ERRORS),
          },
        },
      },
      async (request, reply) => reply.code(201).send(ok({ subscription: await deps.subscriptions.create(request.body, actorOf(request)) })),
    );

    app.get(
      BASE,
      {
        config: ADMIN,
        schema: {
          operationId: 'listWebhookSubscriptions',
          tags: TAGS,
          summary: 'List webhook subscriptions',
          description: 'Every subscription, oldest first, without secrets.',
          security: BEARER_SECURITY,
          response: {
            200: envelope(Type.Object({ subscriptions: Type.Array(Type.Ref('WebhookSubscription')) }), {
              description: 'The subscriptions',
              example: { success: true, data: { subscriptions: [EXAMPLE_SUBSCRIPTION] } },
            }),
            ...problems(...AUTHENTICATED_ERRORS),
          },
        },
      },
      async () => ok({ subscriptions: await deps.subscriptions.list() }),
    );

    app.get(
      `${BASE}/:id`,
      {
        config: ADMIN,
        schema: {
          operationId: 'getWebhookSubscription',
          tags: TAGS,
          summary: 'Get a webhook subscription',
          description: 'Its URL, event types and whether it is active; never its secret.',
          security: BEARER_SECURITY,
          params: IdParams,
          response: {
            200: envelope(Type.Object({ subscription: Type.Ref('WebhookSubscription') }), ONE('The subscription')),
            ...problems(...AUTHENTICATED_ERRORS, 'subscription_not_found'),
          },
        },
      },
      async (request) => ok({ subscription: await deps.subscriptions.get(request.params.id) }),
    );

    app.patch(
      `${BASE}/:id`,
      {
        config: ADMIN,
        schema: {
          operationId: 'updateWebhookSubscription',
          tags: TAGS,
          summary: 'Change a subscription: URL, secret, event types, active',
          description:
            'Only the members sent change. An inactive subscription gets no new deliveries and its pending ones wait until it is active again. Audited (a new secret as "changed").',
          security: BEARER_SECURITY,
          params: IdParams,
          body: withExamples(
            Type.Object(
              {
                url: Type.Optional(Url),
                secret: Type.Optional(Secret),
                event_types: Type.Optional(EventTypes),
                active: Type.Optional(Type.Boolean()),
                description: Type.Optional(Description),
              },
              { additionalProperties: false, minProperties: 1 },
            ),
            { active: false },
          ),
          response: {
            200: envelope(
              Type.Object({ subscription: Type.Ref('WebhookSubscription') }),
              ONE('The subscription, changed', { ...EXAMPLE_SUBSCRIPTION, active: false, updated_at: EXAMPLE.later }),
            ),
            ...problems(...AUTHENTICATED_ERRORS, 'subscription_not_found'),
          },
        },
      },
      async (request) => ok({ subscription: await deps.subscriptions.update(request.params.id, request.body, actorOf(request)) }),
    );

    app.delete(
      `${BASE}/:id`,
      {
        config: ADMIN,
        schema: {
          operationId: 'deleteWebhookSubscription',
          tags: TAGS,
          summary: 'Delete a subscription and its delivery log',
          description: 'Its pending deliveries are dropped with it. Audited.',
          security: BEARER_SECURITY,
          params: IdParams,
          response: {
            200: envelope(Type.Object({ subscription: Type.Ref('WebhookSubscription') }), ONE('The subscription as it was')),
            ...problems(...AUTHENTICATED_ERRORS, 'subscription_not_found'),
          },
        },
      },
      async (request) => ok({ subscription: await deps.subscriptions.delete(request.params.id, actorOf(request)) }),
    );

    app.get(
      `${BASE}/:id/deliveries`,
      {
        config: ADMIN,
        schema: {
          operationId: 'listWebhookDeliveries',
          tags: TAGS,
          summary: 'The delivery log of a subscription: every attempt, newest first',
          description:
            'One row per attempt: the event, its number, the outcome, the response code and the start of the answer, how long it took, and where the delivery stands now (`delivery_state`: pending, delivered or dead). Filter by `state` (dead: the dead letters) or `event_id`; page with `cursor`.',
          security: BEARER_SECURITY,
          params: IdParams,
          querystring: Type.Object(
            {
              state: Type.Optional(DeliveryState),
              event_id: Type.Optional(Type.String({ format: 'uuid' })),
              cursor: Type.Optional(Type.String({ maxLength: 100 })),
              limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: envelope(
              Type.Object({
                deliveries: Type.Array(Type.Ref('WebhookAttempt')),
                next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as cursor for the next page; null on the last page' }),
              }),
              {
                description: 'A page of the delivery log',
                example: {
                  success: true,
                  data: {
                    deliveries: [
                      {
                        event_id: EXAMPLE.event,
                        event_type: 'deployment.failed',
                        attempt: 2,
                        status: 'delivered',
                        response_code: 204,
                        response_excerpt: '',
                        duration_ms: 41,
                        attempted_at: EXAMPLE.later,
                        delivery_state: 'delivered',
                      },
                      {
                        event_id: EXAMPLE.event,
                        event_type: 'deployment.failed',
                        attempt: 1,
                        status: 'failed',
                        response_code: 502,
                        response_excerpt: 'Bad Gateway',
                        duration_ms: 12,
                        attempted_at: EXAMPLE.at,
                        delivery_state: 'delivered',
                      },
                    ],
                    next_cursor: null,
                  },
                },
              },
            ),
            ...problems(...AUTHENTICATED_ERRORS, 'subscription_not_found'),
          },
        },
      },
      async (request) => ok(await deps.subscriptions.deliveries(request.params.id, request.query)),
    );

    app.post(
      `${BASE}/:id/replay`,
      {
        config: ADMIN,
        schema: {
          operationId: 'replayWebhookDeliveries',
          tags: TAGS,
          summary: 'Replay a dead-lettered event, or every dead letter of the subscription',
          description:
            'With `event_id`, that event (404 event_not_found, 409 event_not_dead when it is not dead-lettered); with `{}`, every dead letter. Each is sent again with a fresh count of attempts, under the same event id. Audited.',
          security: BEARER_SECURITY,
          params: IdParams,
          body: withExamples(Type.Object({ event_id: Type.Optional(Type.String({ format: 'uuid' })) }, { additionalProperties: false }), {
            event_id: EXAMPLE.event,
          }),
          response: {
            200: envelope(Type.Object({ replayed: Type.Integer({ minimum: 0 }) }), {
              description: 'How many deliveries are due again',
              example: { success: true, data: { replayed: 1 } },
            }),
            ...problems(...AUTHENTICATED_ERRORS, 'subscription_not_found', 'event_not_found', 'event_not_dead'),
          },
        },
      },
      async (request) => ok(await deps.subscriptions.replay(request.params.id, request.body.event_id, actorOf(request))),
    );
  };
}
