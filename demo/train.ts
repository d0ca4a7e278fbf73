// ELECTRA pre-training on a text held in memory, one optimizer step at a time: the demo page's training loop,
// and the smallest complete example of pre-training with the engine. It is the CLI's recipe (`electra pretrain`:
// replaced-token detection, loss = MLM + 50·disc, AdamW without bias correction, warmup × linear decay, the same
// per-step masking seeds) minus the file system: the vocabulary is trained on the text, the examples go into one
// shard in memory, and the result is a run's two Hugging Face directories as bytes. Browser-safe (it imports the
// engine's browser entry only), so Node runs the very same loop: the browser test compares its losses there.

import {
  AdamW, type Device, type ElectraConfig, type ElectraPair, Rng, type StepOptions, checkElectraConfig, createElectraPair, disposeStep,
  electraStep, excludeLayerNormAndBias, maskRngFor, namedParameters, pairFiles, pairModules, presetConfig, schedules, stepMetrics, text,
  zipStored,
} from '../src/index.js';

export interface TrainOptions {
  steps: number;
  /** Sequences per step. */
  batchSize: number;
  /** Tokens per sequence. */
  seqLen: number;
  /** WordPiece vocabulary trained on the text (specials included). */
  vocabSize: number;
  /** Peak learning rate. */
  lr: number;
  seed: number;
  /** Model sizes over the 'tiny' preset (hidden 128, 2 layers). */
  model?: Partial<ElectraConfig>;
}

export const DEFAULTS: TrainOptions = { steps: 300, batchSize: 8, seqLen: 128, vocabSize: 4096, lr: 5e-4, seed: 0 };

/** The text's tokenizer and its examples, ready to batch. */
export interface PreparedText { tokenizer: text.WordPieceTokenizer; shard: text.Shard; examples: number; tokens: number }

/**
 * Trains a vocabulary on `corpus` (the line format: a sentence per line, a blank line between documents) and packs
 * it into ELECTRA examples of `seqLen` tokens, as `electra build-data` does, but into one shard in memory.
 */
export function prepareText(corpus: string, o: Pick<TrainOptions, 'vocabSize' | 'seqLen' | 'seed'>): PreparedText {
  const tokens = text.trainWordPieceVocab(corpus.split('\n'), { vocabSize: o.vocabSize });
  const tokenizer = new text.WordPieceTokenizer(tokens);
  const built = text.buildShardFromText(tokenizer, corpus, o.seqLen, o.seed, 0);
  if (built.examples === 0) throw new Error('prepareText: the text gave no training examples');
  return { tokenizer, shard: text.decodeShard(built.bytes, 'the text sample'), examples: built.examples, tokens: built.tokens };
}

/** One step's numbers, as metrics.jsonl has them. */
export interface StepRecord {
  step: number; loss: number; mlmLoss: number; discLoss: number | null; mlmAcc: number; discAcc: number | null; lr: number;
}

/** Generator + discriminator, optimizer and data stream; `next()` runs one step. */
export class Trainer {
  readonly pair: ElectraPair;
  readonly config: ElectraConfig;
  step = 0;
  private readonly opt: AdamW;
  private readonly rng: Rng;
  private readonly reader: text.BatchReader;
  private readonly stepOpts: StepOptions;

  constructor(readonly data: PreparedText, readonly o: TrainOptions, readonly device: Device) {
    const tok = data.tokenizer;
    const tiny = presetConfig('tiny');
    this.config = checkElectraConfig({
      ...tiny, ...o.model, vocabSize: tok.vocabSize, padTokenId: tok.padId, maxPositionEmbeddings: Math.max(tiny.maxPositionEmbeddings, o.seqLen),
    }, 'page training config', { pretraining: true });
    this.pair = createElectraPair(this.config, 'electra', o.seed, device);
    this.opt = new AdamW(namedParameters(pairModules(this.pair)), {
      lr: o.lr, eps: 1e-6, weightDecay: 0.01, excludeFromDecay: excludeLayerNormAndBias, maxGradNorm: 1, biasCorrection: false,
    });
    this.rng = new Rng(o.seed + 1);
    const shard = data.shard;
    // The shard is already in memory: the reader's "load" hands it over.
    this.reader = new text.BatchReader({ counts: [data.examples], seqLen: shard.header.seqLen, load: async () => shard }, { batchSize: o.batchSize, seed: o.seed });
    this.stepOpts = {
      maskProb: 0.15, discWeight: 50, genWeight: 1, temperature: 1, objective: 'electra',
      special: { pad: tok.padId, cls: tok.clsId, sep: tok.sepId, mask: tok.maskId },
    };
  }

  /** Runs one optimizer step and reads its metrics back (the step's one sync point). */
  async next(): Promise<StepRecord> {
    const step = ++this.step;
    const lr = schedules.linearWarmupLinearDecay(step - 1, { peak: this.o.lr, warmupSteps: Math.ceil(this.o.steps / 10), totalSteps: this.o.steps });
    const b = await this.reader.next();
    const r = electraStep(this.pair, { B: b.batchSize, T: b.seqLen, ...b }, this.stepOpts, maskRngFor(this.o.seed, step, 0), this.rng, this.device, true);
    this.opt.step(lr, { loss: r.loss });
    this.opt.zeroGrad();
    try {
      const m = await stepMetrics(r);
      const h = await this.opt.health();
      if (!h.ok) throw new Error(`training stopped: ${h.message}`);
      return { step, loss: m.loss, mlmLoss: m.mlmLoss, discLoss: m.discLoss, mlmAcc: m.mlmAcc, discAcc: m.discAcc, lr };
    } finally {
      disposeStep(r);
    }
  }

  /** The run's `discriminator/` and `generator/` directories (HF layout: the CLI loads them) in one zip. */
  async checkpointZip(): Promise<Uint8Array<ArrayBuffer>> {
    return zipStored(await pairFiles(this.pair, this.data.tokenizer.tokens));
  }
}
