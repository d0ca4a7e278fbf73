// Text pipeline, browser-safe: BERT WordPiece tokenizer (HF-exact), vocabulary training, ELECTRA pre-training
// examples, binary shards and the shuffling batch reader, labelled datasets (CSV/TSV/JSONL, GLUE, SQuAD, Brown POS)
// and e-mail cleaning. Node-only helpers (files, worker-thread shard
// building, the bundled corpora) are in ./node/index.ts.
export { WordPieceTokenizer, tokenizerFromFiles, type TokenizerFile, DEFAULT_OPTIONS, type TokenizerOptions, type Encoding, type EncodeOptions, type BatchOptions, type PackedBatch } from './wordpiece.js';
export { parseVocabTxt, parseTokenizerJson, parseTokenizerConfig, formatVocabTxt, validateTokens, vocabHash, VocabError } from './vocab.js';
export { trainWordPieceVocab, trainFromWordCounts, WordCounter, SPECIAL_TOKENS, type VocabTrainOptions } from './train-vocab.js';
export { ExampleBuilder, buildExamples, type Example, type ExampleBuilderOptions } from './examples.js';
export { encodeShard, decodeShard, decodeShardHeader, shardExample, ShardError, SHARD_MAGIC, SHARD_VERSION, type Shard, type ShardHeader, type ShardMeta } from './shard.js';
export { BatchReader, epochOrder, type Batch, type BatchReaderOptions, type ReaderState, type ShardSource } from './stream.js';
export { splitSentences, cleanSotu, cleanMobyDick, cleanBrown, documentsToText, textToDocuments, type Document } from './corpus.js';
export { buildShardFromText } from './pipeline.js';
export { Rng } from './random.js';
export { TextFileError, decodeUtf8, firstInvalidUtf8 } from './utf8.js';
export { crc32 } from './crc32.js';
export {
  DatasetError, parseCsv, parseTsv, parseJsonl, parseTable, tableToDataset, formatFromName, sortLabels, glueLayout, parseGlue, GLUE_TASKS,
  parseSquad, parseBrownTagged, brownToUniversal, UNIVERSAL_TAGS, stratifiedSplit, fnv1a,
  type TextExample, type TaggedExample, type QaExample, type TextDataset, type Table, type TableFormat, type ColumnOptions,
  type GlueTaskName, type GlueSplit, type GlueLayout,
} from './datasets.js';
export { cleanEmail, parseEmail, htmlToText, decodeBase64, decodeQuotedPrintable, decodeMimeWords, decodeCharset, decodeWindows1252, decodeEntities, parseHeaders, parseContentType, stripEncodedBlocks, normaliseWhitespace, type ParsedEmail, type MimeHeaders } from './email.js';
