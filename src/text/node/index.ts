// Node-only parts of the text pipeline (files, worker threads, bundled corpora, labelled-dataset readers). The
// browser-safe API is
// ../index.ts.
export { TextFileError, decodeUtf8, readTextFile, writeFileAtomic, loadTokenizer } from './files.js';
export { writeShardFile, readShardFile, openShardFiles, openBatchReader, shardExpectation } from './shards.js';
export { buildShards, chunkDocuments, type BuildShardsOptions, type BuildProgress, type Manifest } from './build.js';
export { loadBundledCorpus, checkBundledCorpus, BUNDLED_CORPORA, CORPUS_PACKAGES, type BundledCorpusName } from './corpus.js';
export { DATA_PACKAGES, MissingDataPackageError, hasDataPackage, type DataPackage } from './packages.js';
export { preparePretrainingData, type PrepareOptions, type PreparedData } from './prepare.js';
export { readTable, glueTask, readSquad, loadSpamAssassin, loadBrownPos, brownDocumentSplit, SPAM_SPLIT, type ReadTableOptions, type DataSplit } from './datasets.js';
