// Every test process (.taprc: `node-arg: --import=./test/helpers/ram-tmpdir.mjs`) and the processes
// it starts keep their temporary files in RAM when the machine has a tmpfs at /dev/shm and nobody
// chose TMPDIR: a test's data is thousands of small files (a PGlite data directory is ~1,000 files,
// 39 MB, copied from a template for every app a test builds; git repositories; mirrors), and on
// this machine's ext4 that copy alone took ~0.7 s of kernel time against ~0.05 s on tmpfs. Measured
// over three API test files: 48 CPU-s on /tmp, 35 on /dev/shm. Nothing is meant to outlive a run
// except the migrated templates, which are rebuilt after a reboot.
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';

const RAM = '/dev/shm';

if (!process.env.TMPDIR) {
  try {
    if (statSync(RAM).isDirectory()) {
      accessSync(RAM, constants.W_OK);
      const dir = `${RAM}/mir-tests`;
      mkdirSync(dir, { recursive: true });
      process.env.TMPDIR = dir;
    }
  } catch {
    // No tmpfs here (macOS, some containers): the system's temporary directory it is.
  }
}
