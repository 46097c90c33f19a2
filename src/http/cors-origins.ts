// MIR_CORS_ORIGINS read: each origin exactly as a browser serializes it in the `Origin` header
// (lower-case host, no default port, no path), since that header is compared as a string; a near
// miss such as `https://Dash.example/` would otherwise never match and fail silently in the browser.
//
// `*` is refused even though credentials stay off (tokens travel in `Authorization`, never in
// cookies, so no page can borrow a user's session): /metrics, /readyz and /openapi.json answer
// without a token, and mir usually sits on a private network, so `*` would let any web page a
// colleague opens read them from inside that network. Naming the dashboards costs one line.

/** The listed origins, once each, and one line per origin that is not one (config.ts reports them). */
export function parseCorsOrigins(value: string | undefined): { origins: readonly string[]; problems: string[] } {
  const origins = (value ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  const problems = origins.flatMap((origin) => {
    const problem = originProblem(origin);
    return problem ? [`${JSON.stringify(origin)} ${problem}`] : [];
  });
  return { origins: Object.freeze([...new Set(origins)]), problems };
}

function originProblem(origin: string): string | null {
  if (origin === '*') return 'is not accepted: list the origins of the pages that call mir';
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'is not an origin: scheme://host[:port]';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'is not an origin: the scheme must be http or https';
  if (url.origin !== origin) return `is not an origin as browsers send it (scheme://host[:port], lower case, no path): ${JSON.stringify(url.origin)}`;
  return null;
}
