// The scopes a token may hold; each route declares the one it needs (src/http/auth.ts). A write
// scope implies its read scope; `admin` implies every scope.

export const SCOPES = ['source_control:releases_read', 'source_control:releases_write', 'source_control:read', 'source_control:write', 'admin'] as const;

export type Scope = (typeof SCOPES)[number];

const IMPLIED: Record<Scope, readonly Scope[]> = {
  'source_control:releases_read': [],
  'source_control:releases_write': ['source_control:releases_read'],
  'source_control:read': [],
  'source_control:write': ['source_control:read'],
  admin: SCOPES,
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Whether a holder of `granted` may use a route that needs `required`. */
export function grants(granted: readonly Scope[], required: Scope): boolean {
  return granted.some((scope) => scope === required || IMPLIED[scope].includes(required));
}
