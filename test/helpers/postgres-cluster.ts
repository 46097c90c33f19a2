// A PostgreSQL server of a test's own, so that it can be stopped and restarted without touching the
// server the rest of the suite shares: initdb into a temporary directory (owned by the postgres
// user when running as root, since initdb refuses root), on 127.0.0.1 and a free port.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './replica.js';

const execFileAsync = promisify(execFile);

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  start(): Promise<void>;
  /** Immediate shutdown (`-m immediate`, as a crash): sessions end with 57P01 or a reset. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  remove(): Promise<void>;
}

/** The newest installed server's bin directory, or null when none is installed. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  try {
    const versions = readdirSync(root).sort((a, b) => Number(a) - Number(b));
    return versions.length > 0 ? path.join(root, versions.at(-1)!, 'bin') : null;
  } catch {
    return null;
  }
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBin();
  if (!bin) throw new Error('no PostgreSQL server installed under /usr/lib/postgresql (.ci/run installs it)');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mir-fault-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await execFileAsync('id', ['-u', 'postgres']);
    const uid = Number(stdout.trim());
    const gid = Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim());
    await chown(dir, uid, gid);
  }
  const run = (tool: string, args: string[]) =>
    asRoot ? execFileAsync('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : execFileAsync(path.join(bin, tool), args);
  const port = await freePort();
  const data = path.join(dir, 'data');
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres']);
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100`;
  const cluster: PostgresCluster = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start: async () => void (await run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-o', options, 'start'])),
    stop: async () => void (await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])),
    restart: async () => {
      await cluster.stop();
      await cluster.start();
    },
    remove: async () => {
      await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}
