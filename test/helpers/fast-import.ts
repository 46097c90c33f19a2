// Commits files on the default branch with native `git fast-import`, as a push would land them:
// one pack, in about a second for tens of thousands of files (the gateway's own commit writes loose
// objects, one fsync each). For tests about large repositories.
import { spawn } from 'node:child_process';

export async function fastImport(repo: string, files: Record<string, Uint8Array | string>, message = 'Push many files with plain git'): Promise<void> {
  const chunks: Buffer[] = [];
  const data = (bytes: Buffer) => chunks.push(Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n'));
  chunks.push(Buffer.from('commit refs/heads/main\ncommitter Grace Hopper <grace@example.com> 1767225600 +0000\n'));
  data(Buffer.from(`${message}\n`));
  chunks.push(Buffer.from('from refs/heads/main^0\n'));
  for (const [file, content] of Object.entries(files)) {
    chunks.push(Buffer.from(`M 100644 inline ${file}\n`));
    data(Buffer.from(content));
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn('git', ['--git-dir', repo, 'fast-import', '--quiet'], { stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited with ${code}`))));
    child.stdin.end(Buffer.concat(chunks));
  });
}
