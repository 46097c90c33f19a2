// A real git smart-HTTP server for tests: node:http in front of `git http-backend` (CGI), on
// 127.0.0.1 and a random port. No mocked git: what the gateway pushes lands in a real bare
// repository that the native git CLI then inspects.
import { spawn, execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/** Runs native git; resolves with stdout, rejects with stderr in the message. */
export async function runGit(args: readonly string[], options: { cwd?: string; input?: string | Buffer } = {}): Promise<string> {
  if (options.input !== undefined) {
    return new Promise((resolve, reject) => {
      const child = spawn('git', args, { cwd: options.cwd, env: { ...process.env, ...GIT_ENV } });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`git ${args.join(' ')}: ${Buffer.concat(err).toString()}`)),
      );
      child.stdin.end(options.input);
    });
  }
  try {
    const { stdout } = await execFileAsync('git', [...args], { cwd: options.cwd, env: { ...process.env, ...GIT_ENV }, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`git ${args.join(' ')}: ${e.stderr ?? e.message}`, { cause: error });
  }
}

export async function tempDir(prefix = 'mir-git-'): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Creates `<root>/<name>.git`, bare, with `http.receivepack` on (http-backend refuses pushes
 * otherwise: https://git-scm.com/docs/git-http-backend) and, when `files` is given, one commit holding them on `branch`.
 */
export async function createBareRepo(options: { root: string; name: string; branch?: string; files?: Record<string, string | Uint8Array> }): Promise<string> {
  const branch = options.branch ?? 'main';
  const dir = path.join(options.root, `${options.name}.git`);
  await runGit(['init', '--quiet', '--bare', `--initial-branch=${branch}`, dir]);
  await runGit(['config', 'http.receivepack', 'true'], { cwd: dir });
  if (options.files) await commitFiles({ repo: dir, branch, files: options.files, message: 'Initial content' });
  return dir;
}

/** Commits `files` (null deletes) on top of `branch` of a bare repository with native git. Returns the sha. */
export async function commitFiles(options: {
  repo: string;
  branch: string;
  files: Record<string, string | Uint8Array | null>;
  message: string;
}): Promise<string> {
  const work = await tempDir('mir-work-');
  try {
    const hasBranch = await runGit(['rev-parse', '--verify', '--quiet', `refs/heads/${options.branch}`], { cwd: options.repo }).then(
      () => true,
      () => false,
    );
    if (hasBranch) await runGit(['clone', '--quiet', '--branch', options.branch, options.repo, work.path]);
    else {
      await runGit(['init', '--quiet', `--initial-branch=${options.branch}`, work.path]);
      await runGit(['remote', 'add', 'origin', options.repo], { cwd: work.path });
    }
    for (const [file, content] of Object.entries(options.files)) {
      const full = path.join(work.path, file);
      if (content === null) await rm(full, { force: true });
      else {
        await mkdir(path.dirname(full), { recursive: true });
        await writeFile(full, content);
      }
    }
    await runGit(['add', '-A'], { cwd: work.path });
    await runGit(['commit', '--quiet', '-m', options.message], { cwd: work.path });
    await runGit(['push', '--quiet', 'origin', `HEAD:refs/heads/${options.branch}`], { cwd: work.path });
    return (await runGit(['rev-parse', 'HEAD'], { cwd: work.path })).trim();
  } finally {
    await work.remove();
  }
}

/** Installs an executable hook (e.g. pre-receive) in a bare repository. */
export async function installHook(repo: string, name: string, script: string): Promise<void> {
  const file = path.join(repo, 'hooks', name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, script);
  await chmod(file, 0o755);
}

export interface GitServer {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** The URL of `<root>/<name>.git`. */
  repoUrl(name: string): string;
  /** Every request served, in order: for tests that count round trips. */
  readonly requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

/**
 * Serves every repository under `root`. With `auth`, requests without those basic credentials
 * get 401 (and REMOTE_USER is set for the CGI when they match). With `port`, on that port.
 */
export async function startGitServer(options: { root: string; auth?: { username: string; password: string }; port?: number }): Promise<GitServer> {
  const requests: { method: string; path: string; status: number }[] = [];
  const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}` : undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record = (status: number) => requests.push({ method: req.method ?? 'GET', path: url.pathname, status });
    if (expected && req.headers.authorization !== expected) {
      record(401);
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' });
      res.end('authentication required\n');
      req.resume();
      return;
    }
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      GIT_PROJECT_ROOT: options.root,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      // Native git gzips large requests; http-backend inflates them when this variable says so.
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = String(req.headers['content-length']);
    if (expected) env.REMOTE_USER = options.auth!.username;
    const child = spawn('git', ['http-backend'], { env });
    req.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    let head = Buffer.alloc(0);
    let headerDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      let end = head.indexOf('\r\n\r\n');
      let sepLength = 4;
      if (end < 0) {
        end = head.indexOf('\n\n');
        sepLength = 2;
      }
      if (end < 0) return;
      headerDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = parseInt(value, 10);
        else headers[name] = value;
      }
      record(status);
      res.writeHead(status, headers);
      res.write(head.subarray(end + sepLength));
    });
    child.stderr.on('data', () => undefined);
    child.on('close', () => {
      if (!headerDone) {
        record(500);
        res.writeHead(500);
      }
      res.end();
    });
  });
  // A given port: the same remote started again after an outage.
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    repoUrl: (name) => `${baseUrl}/${name}.git`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
