// The answer to a release write (shared with hotfix releases): the pushed branch or the dry run,
// plus the version chosen and the artifact's sha256 and size.
import Type from 'typebox';
import { Version } from '../http/schemas.js';
import { DryRun, PushedBranch } from '../pull-requests/pull-requests.schemas.js';

const Built = {
  release_version: Version,
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Of the zip' }),
  size: Type.Integer({ description: 'Bytes of the zip' }),
};

export const ReleasePushed = Type.Object(
  { ...PushedBranch.properties, ...Built },
  { $id: 'ReleasePushed', description: 'The pushed release branch and its pull request' },
);
export const ReleaseDryRun = Type.Object({ ...DryRun.properties, ...Built }, { $id: 'ReleaseDryRun', description: 'What would be pushed (dry_run=true)' });
