// A replica owns its data dir for the life of its process: the embedded database (PGlite corrupts
// under two processes), the repository or mirror and the admin token are one process's alone.
//
// The lock is `<dataDir>/mir.lock`, created exclusively, naming its owner (pid, the process's start
// time, host and boot id), and touched every HEARTBEAT_MS while held. Another start finds it and:
// - takes it over at once when the owner is on this machine and no longer runs (a kill -9: the pid
//   is gone, or now belongs to a process that started later);
// - takes it over when it has not been touched for STALE_MS (an owner it cannot see: another
//   container or host sharing the volume, which is how a crash there looks too);
// - refuses to start otherwise, naming the owner: two live processes on one data dir is a mistake.
// No flock(2): Node has no binding for it, and it is unreliable on the network volumes where a
// second replica on the same dir is most likely.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'mir.lock';
const HEARTBEAT_MS = 5_000;
const STALE_MS = 20_000;

interface Owner {
  readonly pid: number;
  /** Clock ticks since boot when the process started (/proc/<pid>/stat field 22): tells pid reuse apart. */
  readonly started: string | null;
  readonly host: string;
  readonly boot: string | null;
  readonly since: string;
}

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
}

export interface DataDirLock {
  /** What an earlier owner left, when the lock was taken over from it (for the log). */
  readonly tookOverFrom: Owner | null;
  release(): Promise<void>;
}

function readProc(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function startTime(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  // "pid (comm) state ppid …": comm may hold spaces and parentheses; fields restart after the last ')'.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

function self(): Owner {
  return {
    pid: process.pid,
    started: startTime(process.pid),
    host: os.hostname(),
    boot: readProc('/proc/sys/kernel/random/boot_id')?.trim() ?? null,
    since: new Date().toISOString(),
  };
}

/** Whether the owner is known, from here, to be gone; false when it cannot be seen from here. */
function knownDead(owner: Owner, me: Owner): boolean {
  if (owner.host !== me.host || owner.boot === null || owner.boot !== me.boot) return false;
  const now = startTime(owner.pid);
  return now === null || (owner.started !== null && now !== owner.started);
}

function parseOwner(text: string): Owner | null {
  try {
    const value = JSON.parse(text) as Partial<Owner>;
    return typeof value.pid === 'number' && typeof value.host === 'string' ? (value as Owner) : null;
  } catch {
    return null;
  }
}

export async function acquireDataDirLock(dataDir: string, options: { now?: () => number } = {}): Promise<DataDirLock> {
  const now = options.now ?? Date.now;
  const file = path.join(dataDir, LOCK_FILE);
  const me = self();
  let tookOverFrom: Owner | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    // Written aside and linked into place: link(2) fails if the lock exists, and the lock is never
    // seen half-written.
    const temp = `${file}.${randomBytes(6).toString('hex')}`;
    await fs.promises.writeFile(temp, `${JSON.stringify(me)}\n`, { mode: 0o600 });
    try {
      await fs.promises.link(temp, file);
      return hold(file, me, tookOverFrom);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await fs.promises.unlink(temp).catch(() => undefined);
    }
    const [text, stat] = await Promise.all([fs.promises.readFile(file, 'utf8').catch(() => null), fs.promises.stat(file).catch(() => null)]);
    if (text === null || stat === null) continue; // released meanwhile
    const owner = parseOwner(text);
    const untouched = now() - stat.mtimeMs >= STALE_MS;
    if (owner !== null && !untouched && !knownDead(owner, me)) {
      throw new DataDirLockedError(
        `${dataDir} is in use by mir process ${owner.pid} on ${owner.host} since ${owner.since}: each replica needs a data dir of its own (MIR_DATA_DIR)`,
      );
    }
    tookOverFrom = owner;
    await fs.promises.unlink(file).catch(() => undefined);
  }
  throw new DataDirLockedError(`${dataDir}: could not take ${LOCK_FILE} (another process keeps taking it)`);
}

function hold(file: string, me: Owner, tookOverFrom: Owner | null): DataDirLock {
  const heartbeat = setInterval(() => {
    const at = new Date();
    fs.promises.utimes(file, at, at).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    tookOverFrom,
    async release() {
      clearInterval(heartbeat);
      // Only our own lock: never one a later owner took over after we looked stale.
      const text = await fs.promises.readFile(file, 'utf8').catch(() => null);
      if (text !== null && parseOwner(text)?.pid === me.pid && parseOwner(text)?.started === me.started) await fs.promises.unlink(file).catch(() => undefined);
    },
  };
}
