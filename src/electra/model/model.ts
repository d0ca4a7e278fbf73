// The ELECTRA networks, with Hugging Face's module names so parameter paths are checkpoint names:
//   ElectraForPreTraining (discriminator): electra.{embeddings, embeddings_project, encoder}, discriminator_predictions
//   ElectraForMaskedLM (generator):       electra.{…}, generator_predictions, generator_lm_head (weight tied)
// Generator and discriminator share one ElectraEmbeddings object (word, position, token-type tables
// and their LayerNorm, spec §2.6); each has its own embeddings_project (E → H when E ≠ H). The [PAD]
// row of the word embeddings gets no gradient (HF's padding_idx). Configs are checked on construction.
// Shapes: B batch, T tokens, E embedding width, H hidden, V vocabulary, N masked slots per sequence.

import * as F from '../../nn/functional.js';
import { type Ctx, Embedding, Encoder, type InitCtx, LayerNorm, Linear, dropout } from '../../nn/layers.js';
import { init } from '../../nn/init.js';
import * as o from '../../tensor/ops.js';
import { Tensor, tidy } from '../../tensor/tensor.js';
import { type ElectraConfig, checkElectraConfig } from './config.js';

export class ElectraEmbeddings {
  word_embeddings: Embedding;       // [V, E]
  position_embeddings: Embedding;   // [P, E]
  token_type_embeddings: Embedding; // [2, E]
  LayerNorm: LayerNorm;
  constructor(private readonly _c: ElectraConfig, ic: InitCtx) {
    checkElectraConfig(_c, 'ElectraEmbeddings config');
    // HF: nn.Embedding(vocab, E, padding_idx=pad_token_id), so the [PAD] row never gets a gradient; the
    // position and token-type tables have no padding row.
    this.word_embeddings = new Embedding(_c.vocabSize, _c.embeddingSize, ic, { paddingIdx: _c.padTokenId ?? -1 });
    this.position_embeddings = new Embedding(_c.maxPositionEmbeddings, _c.embeddingSize, ic);
    this.token_type_embeddings = new Embedding(_c.typeVocabSize, _c.embeddingSize, ic);
    this.LayerNorm = new LayerNorm(_c.embeddingSize, ic, _c.layerNormEps);
  }
  /** ids, types i32 [B, T], positions i32 [T] → [B, T, E] */
  forward(ids: Tensor, types: Tensor, positions: Tensor, ctx: Ctx): Tensor {
    return tidy(() => {
      const x = o.add(o.add(this.word_embeddings.forward(ids), this.token_type_embeddings.forward(types)), this.position_embeddings.forward(positions));
      return dropout(this.LayerNorm.forward(x), this._c.hiddenDropoutProb, ctx);
    });
  }
}

/** HF ElectraModel: shared embeddings → own projection → encoder. */
export class ElectraModel {
  embeddings: ElectraEmbeddings;
  embeddings_project: Linear | null;
  encoder: Encoder;
  constructor(readonly config: ElectraConfig, embeddings: ElectraEmbeddings, ic: InitCtx) {
    checkElectraConfig(config, 'ElectraModel config');
    this.embeddings = embeddings;
    // TF built the projection without an initializer: glorot uniform (spec §2.7).
    this.embeddings_project = config.embeddingSize !== config.hiddenSize ? new Linear(config.embeddingSize, config.hiddenSize, ic, { glorot: true }) : null;
    this.encoder = new Encoder(config, ic);
  }
  /** → hidden states [B, T, H] */
  forward(ids: Tensor, types: Tensor, positions: Tensor, mask: Tensor | null, ctx: Ctx): Tensor {
    return tidy(() => {
      let h = this.embeddings.forward(ids, types, positions, ctx);
      if (this.embeddings_project) h = this.embeddings_project.forward(h);
      return this.encoder.forward(h, mask, ctx);
    });
  }
}

/** Discriminator: dense H→H, GELU, dense H→1 (one replaced-token logit per token). */
export class ElectraForPreTraining {
  electra: ElectraModel;
  discriminator_predictions: { dense: Linear; dense_prediction: Linear };
  constructor(readonly config: ElectraConfig, embeddings: ElectraEmbeddings, ic: InitCtx) {
    this.electra = new ElectraModel(config, embeddings, ic);
    this.discriminator_predictions = {
      dense: new Linear(config.hiddenSize, config.hiddenSize, ic),
      dense_prediction: new Linear(config.hiddenSize, 1, ic, { glorot: true }),
    };
  }
  /** → logits [B, T] (> 0 means "replaced") */
  forward(ids: Tensor, types: Tensor, positions: Tensor, mask: Tensor | null, ctx: Ctx): Tensor {
    return tidy(() => {
      const h = this.electra.forward(ids, types, positions, mask, ctx);
      const p = this.discriminator_predictions;
      const logits = p.dense_prediction.forward(p.dense.forward(h, { gelu: true }));  // [B, T, 1]
      return o.reshape(logits, [ids.shape[0], ids.shape[1]]);
    });
  }
}

/** Generator: dense H→E, GELU, LayerNorm(E), logits = h · word_embeddingsᵀ + bias. */
export class ElectraForMaskedLM {
  electra: ElectraModel;
  generator_predictions: { dense: Linear; LayerNorm: LayerNorm };
  generator_lm_head: { bias: Tensor };
  constructor(readonly config: ElectraConfig, embeddings: ElectraEmbeddings, ic: InitCtx) {
    this.electra = new ElectraModel(config, embeddings, ic);
    this.generator_predictions = {
      dense: new Linear(config.hiddenSize, config.embeddingSize, ic),
      LayerNorm: new LayerNorm(config.embeddingSize, ic, config.layerNormEps),
    };
    this.generator_lm_head = { bias: init.zeros([config.vocabSize], ic) };
  }
  /** The tied output weight, generator_lm_head.weight in HF checkpoints. */
  get lmHeadWeight(): Tensor { return this.electra.embeddings.word_embeddings.weight; }

  /**
   * Logits at selected rows only: `rows` i32 [R] indexes the flattened [B·T] tokens (for MLM, the
   * masked slots b·T + position). Pass null for every token. → [R, V]
   */
  forward(ids: Tensor, types: Tensor, positions: Tensor, mask: Tensor | null, rows: Tensor | null, ctx: Ctx): Tensor {
    return tidy(() => {
      const h = this.electra.forward(ids, types, positions, mask, ctx);           // [B, T, Hg]
      const flat = o.reshape(h, [-1, h.shape[2]]);                                // [B·T, Hg]
      const sel = rows ? F.embedding(rows, flat) : flat;                          // [R, Hg]
      const p = this.generator_predictions;
      const e = p.LayerNorm.forward(p.dense.forward(sel, { gelu: true }));        // [R, E]
      return F.linear(e, this.lmHeadWeight, this.generator_lm_head.bias);         // [R, V] = e·Wᵀ + bias
    });
  }
}
