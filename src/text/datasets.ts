// Labelled datasets for fine-tuning (issue 5): the shared types. Readers (CSV/TSV/JSONL tables, GLUE, the bundled
// SpamAssassin and Brown POS sets) live in src/text/node/datasets.ts.

/** One example for sequence classification / regression; label is a class name (string) or a number (regression). */
export interface TextExample { text: string; textB?: string; label: string | number; id?: string }
/** One example for token classification: words and one tag per word. */
export interface TaggedExample { words: string[]; tags: string[]; id?: string }
/** One SQuAD-style QA example; answer `start` is a character offset into `context`. */
export interface QaExample { id: string; question: string; context: string; answers: { text: string; start: number }[] }

/** A labelled dataset plus its label set (null labels = regression). */
export interface TextDataset { examples: TextExample[]; labels: string[] | null; name: string }
