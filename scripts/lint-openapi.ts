// `npm run lint:openapi`: @redocly/cli (redocly.yaml: its recommended rules) and Spectral
// (.spectral.yaml: spectral:oas) on openapi/openapi.json. Each problem is printed, then one line
// per tool with its figures; any error or warning fails. (redocly exits 0 on warnings, so its JSON
// report is read rather than its exit code.)
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const document = 'openapi/openapi.json';

interface Figures {
  readonly tool: string;
  readonly errors: number;
  readonly warnings: number;
  readonly problems: readonly string[];
}

/** stdout of a tool that exits non-zero when it finds errors: its report is wanted either way. */
function report(bin: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(`${root}node_modules/.bin/${bin}`, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (stdout.trim().startsWith('{') || stdout.trim().startsWith('[')) resolve(stdout);
      else reject(new Error(`${bin} gave no report: ${error?.message ?? ''}\n${stderr}`));
    });
  });
}

async function redocly(): Promise<Figures> {
  const json = JSON.parse(await report('redocly', ['lint', '--config', 'redocly.yaml', '--format', 'json', document])) as {
    totals: { errors: number; warnings: number };
    problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
  };
  const problems = json.problems.map((p) => `redocly ${p.severity} ${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`);
  return { tool: 'redocly (recommended)', errors: json.totals.errors, warnings: json.totals.warnings, problems };
}

async function spectral(): Promise<Figures> {
  const json = JSON.parse(await report('spectral', ['lint', '--ruleset', '.spectral.yaml', '--format', 'json', '--quiet', document])) as {
    code: string;
    severity: number;
    message: string;
    path: string[];
  }[];
  // Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
  const problems = json.map((p) => `spectral ${['error', 'warning', 'info', 'hint'][p.severity]} ${p.code} at ${p.path.join('.')}: ${p.message}`);
  return {
    tool: 'spectral (spectral:oas)',
    errors: json.filter((p) => p.severity === 0).length,
    warnings: json.filter((p) => p.severity === 1).length,
    problems,
  };
}

const results = await Promise.all([redocly(), spectral()]);
for (const result of results) for (const problem of result.problems) process.stdout.write(`${problem}\n`);
for (const { tool, errors, warnings } of results) process.stdout.write(`${tool}: ${errors} errors, ${warnings} warnings\n`);
if (results.some((r) => r.errors + r.warnings > 0)) process.exitCode = 1;
