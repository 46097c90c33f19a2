// One process per data dir: the lock file `mir.lock`, what a second start finds, and how a lock
// left by a killed owner (here, on another host, or a recycled pid) is told apart from a live one.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { acquireDataDirLock, DataDirLockedError, LOCK_FILE } from '../../src/runtime/data-dir-lock.js';
import { tempDir } from '../helpers/git-server.js';

// src/runtime/data-dir-lock.ts keeps its stale period (STALE_MS, 20 s) to itself: a minute is past it.
const PAST_STALE_MS = 60_000;
const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

async function dataDir(t: Test): Promise<string> {
  const dir = await tempDir('mir-lock-');
  t.teardown(dir.remove);
  return dir.path;
}

function readLock(dir: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
}

function writeLock(dir: string, owner: Record<string, unknown>): void {
  fs.writeFileSync(path.join(dir, LOCK_FILE), `${JSON.stringify({ since: '2026-01-01T00:00:00.000Z', ...owner })}\n`);
}

/** The pid of a process that has run and exited: a kill -9'd owner, as far as the lock can tell. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

t.test('a free lock is taken, a held one refuses a second start, and release frees it', async (t) => {
  const dir = await dataDir(t);
  const first = await acquireDataDirLock(dir);
  t.equal(first.tookOverFrom, null, 'nothing was taken over');
  t.match(readLock(dir), { pid: process.pid, host: os.hostname(), boot: bootId, started: /^\d+$/ }, 'mir.lock names this process');

  const refused = await acquireDataDirLock(dir).then(
    () => null,
    (error: unknown) => error,
  );
  t.type(refused, DataDirLockedError, 'a second start on the same dir refuses');
  t.match((refused as Error).message, new RegExp(`in use by mir process ${process.pid} on ${os.hostname()}.*MIR_DATA_DIR`));
  t.equal(readLock(dir).pid, process.pid, 'the refused start left the lock as it was');
  t.same(
    fs.readdirSync(dir).filter((n) => n !== LOCK_FILE),
    [],
    'and no file of its own behind',
  );

  await first.release();
  t.notOk(fs.existsSync(path.join(dir, LOCK_FILE)), 'release removes mir.lock');
  const second = await acquireDataDirLock(dir);
  t.equal(second.tookOverFrom, null);
  t.equal(readLock(dir).pid, process.pid);
  await second.release();
});

t.test('a lock left by a process of this machine that no longer runs is taken over at once', async (t) => {
  const dir = await dataDir(t);
  const pid = await deadPid();
  writeLock(dir, { pid, started: '123456', host: os.hostname(), boot: bootId });

  const lock = await acquireDataDirLock(dir);
  t.match(lock.tookOverFrom, { pid, started: '123456', host: os.hostname() }, 'tookOverFrom names the dead owner');
  t.equal(readLock(dir).pid, process.pid, 'the lock now names this process');
  await lock.release();
});

t.test('a live pid that started at another time is a recycled pid: the lock is taken over', async (t) => {
  const dir = await dataDir(t);
  writeLock(dir, { pid: process.pid, started: '1', host: os.hostname(), boot: bootId });

  const lock = await acquireDataDirLock(dir);
  t.match(lock.tookOverFrom, { pid: process.pid, started: '1' });
  t.not(readLock(dir).started, '1', 'the lock now carries this process start time');
  await lock.release();
});

t.test('a lock of another host is honoured while it is touched, and taken over once stale', async (t) => {
  const dir = await dataDir(t);
  writeLock(dir, { pid: 4242, started: '99', host: 'elsewhere', boot: 'another-boot' });

  await t.rejects(acquireDataDirLock(dir), { name: 'DataDirLockedError', message: /in use by mir process 4242 on elsewhere.*MIR_DATA_DIR/ });
  t.equal(readLock(dir).host, 'elsewhere', 'the other host keeps its lock');

  const aged = new Date(Date.now() - PAST_STALE_MS);
  fs.utimesSync(path.join(dir, LOCK_FILE), aged, aged);
  const lock = await acquireDataDirLock(dir);
  t.match(lock.tookOverFrom, { pid: 4242, host: 'elsewhere' }, 'an untouched lock is a crash there');
  t.equal(readLock(dir).host, os.hostname());
  await lock.release();
});

t.test('release leaves alone a lock that another owner took over meanwhile', async (t) => {
  const dir = await dataDir(t);
  const lock = await acquireDataDirLock(dir);
  // What a replica elsewhere writes after finding this one stale.
  writeLock(dir, { pid: process.pid, started: '7', host: 'elsewhere', boot: null });

  await lock.release();
  t.ok(fs.existsSync(path.join(dir, LOCK_FILE)), 'the new owner keeps mir.lock');
  t.match(readLock(dir), { host: 'elsewhere', started: '7' });
});
