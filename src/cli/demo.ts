// Placeholder replaced by the engine demo (issue 2): kept so the CLI table type-checks.
export const help = 'electra demo: trains a small Transformer layer on synthetic data.';
export async function run(_argv: string[]): Promise<number> { console.log('demo: not built yet'); return 1; }
