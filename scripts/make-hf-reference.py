#!/usr/bin/env python3
"""Writes test/fixtures/checkpoint/tiny-reference.json: the outputs PyTorch computes for the tiny checkpoint
fixtures (tiny-disc.bin, tiny-gen-legacy.bin) with Hugging Face's ELECTRA forward pass.

Dev-time only, like make-checkpoint-fixtures.py (Debian: `apt-get install -y python3-torch`). `transformers`
is not packaged for Debian, so the forward below is a transcription of modeling_electra.py's eval-mode path
(ElectraEmbeddings, BertSelfAttention with the additive extended mask, post-LN layers, the two heads, and
the two heads' losses) in float64. The GPU machine (../shared/gpu/README.md) has `transformers` itself; there
`--check-transformers` also runs ElectraForPreTraining/ElectraForMaskedLM and asserts they agree.
"""
import json
import math
import os
import sys

import torch

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'checkpoint')
# Must match make-checkpoint-fixtures.py: V, E, H, L, FFN, P; heads chosen here (H = 16 → 2 heads of 8).
V, E, H, L, FFN, P, HEADS, EPS = 40, 8, 16, 1, 32, 12, 2, 1e-12

# Two sequences: the second is padded (attention_mask 0) and uses token type 1 for its second segment.
INPUT_IDS = [[2, 7, 11, 13, 17, 3, 5, 9, 3], [2, 19, 23, 3, 29, 3, 0, 0, 0]]
TOKEN_TYPES = [[0, 0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 1, 1, 0, 0, 0]]
ATTENTION = [[1] * 9, [1, 1, 1, 1, 1, 1, 0, 0, 0]]
DISC_LABELS = [[0, 0, 1, 0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 0, 0, 0, 0]]
MLM_LABELS = [[-100, -100, 12, -100, -100, -100, 31, -100, -100], [-100, 19, -100, -100, 4, -100, -100, -100, -100]]


def load(name):
    sd = torch.load(os.path.join(FIX, name), map_location='cpu')
    fix = lambda k: k.replace('LayerNorm.gamma', 'LayerNorm.weight').replace('LayerNorm.beta', 'LayerNorm.bias')
    return {fix(k): v.double() for k, v in sd.items() if not k.endswith('position_ids')}


def linear(x, sd, name):
    return x @ sd[name + '.weight'].T + sd[name + '.bias']


def layer_norm(x, sd, name):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], sd[name + '.weight'], sd[name + '.bias'], EPS)


def gelu(x):  # ACT2FN['gelu'] is the exact erf form
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def electra(sd, ids, types, mask):
    b, t = ids.shape
    pos = torch.arange(t).unsqueeze(0)
    h = sd['electra.embeddings.word_embeddings.weight'][ids] + sd['electra.embeddings.token_type_embeddings.weight'][types] \
        + sd['electra.embeddings.position_embeddings.weight'][pos]
    h = layer_norm(h, sd, 'electra.embeddings.LayerNorm')
    h = linear(h, sd, 'electra.embeddings_project')
    ext = (1.0 - mask[:, None, None, :].double()) * torch.finfo(torch.float64).min  # get_extended_attention_mask
    dh = H // HEADS
    for i in range(L):
        p = f'electra.encoder.layer.{i}.'
        split = lambda x: x.view(b, t, HEADS, dh).permute(0, 2, 1, 3)
        q, k, v = (split(linear(h, sd, p + f'attention.self.{m}')) for m in ('query', 'key', 'value'))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + ext
        ctx = (torch.softmax(scores, dim=-1) @ v).permute(0, 2, 1, 3).reshape(b, t, H)
        a = layer_norm(linear(ctx, sd, p + 'attention.output.dense') + h, sd, p + 'attention.output.LayerNorm')
        f = linear(gelu(linear(a, sd, p + 'intermediate.dense')), sd, p + 'output.dense')
        h = layer_norm(f + a, sd, p + 'output.LayerNorm')
    return h


def main():
    ids, types, mask = torch.tensor(INPUT_IDS), torch.tensor(TOKEN_TYPES), torch.tensor(ATTENTION)
    disc = load('tiny-disc.bin')
    h = electra(disc, ids, types, mask)
    disc_logits = linear(gelu(linear(h, disc, 'discriminator_predictions.dense')), disc,
                         'discriminator_predictions.dense_prediction').squeeze(-1)
    # ElectraForPreTraining's loss: BCE-with-logits over tokens with attention_mask == 1.
    active = mask.view(-1) == 1
    disc_loss = torch.nn.functional.binary_cross_entropy_with_logits(
        disc_logits.view(-1)[active], torch.tensor(DISC_LABELS).double().view(-1)[active])

    gen = load('tiny-gen-legacy.bin')
    g = electra(gen, ids, types, mask)
    g = layer_norm(gelu(linear(g, gen, 'generator_predictions.dense')), gen, 'generator_predictions.LayerNorm')
    gen_logits = linear(g, gen, 'generator_lm_head')
    mlm_loss = torch.nn.functional.cross_entropy(gen_logits.view(-1, V), torch.tensor(MLM_LABELS).view(-1), ignore_index=-100)

    if '--check-transformers' in sys.argv:
        check_transformers(ids, types, mask, disc_logits, gen_logits)

    out = {
        'note': 'written by scripts/make-hf-reference.py from tiny-disc.bin and tiny-gen-legacy.bin (float64)',
        'config': {'vocab_size': V, 'embedding_size': E, 'hidden_size': H, 'num_hidden_layers': L,
                   'num_attention_heads': HEADS, 'intermediate_size': FFN, 'max_position_embeddings': P,
                   'layer_norm_eps': EPS},
        'input_ids': INPUT_IDS, 'token_type_ids': TOKEN_TYPES, 'attention_mask': ATTENTION,
        'disc_labels': DISC_LABELS, 'mlm_labels': MLM_LABELS,
        'disc_logits': disc_logits.tolist(), 'disc_loss': disc_loss.item(),
        'gen_logits': gen_logits.tolist(), 'mlm_loss': mlm_loss.item(),
    }
    with open(os.path.join(FIX, 'tiny-reference.json'), 'w') as f:
        json.dump(out, f, indent=None, separators=(',', ':'))
        f.write('\n')
    print(f'disc_loss {disc_loss.item():.6f}  mlm_loss {mlm_loss.item():.6f}')


def check_transformers(ids, types, mask, disc_logits, gen_logits):
    from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining
    cfg = ElectraConfig(vocab_size=V, embedding_size=E, hidden_size=H, num_hidden_layers=L, num_attention_heads=HEADS,
                        intermediate_size=FFN, max_position_embeddings=P, layer_norm_eps=EPS)
    for cls, name, want in ((ElectraForPreTraining, 'tiny-disc.bin', disc_logits), (ElectraForMaskedLM, 'tiny-gen-legacy.bin', gen_logits)):
        m = cls(cfg).double().eval()
        sd = {k.replace('.gamma', '.weight').replace('.beta', '.bias'): v for k, v in torch.load(os.path.join(FIX, name)).items()}
        m.load_state_dict(sd, strict=False)
        got = m(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
        assert torch.allclose(got, want, atol=1e-9), f'{cls.__name__}: max diff {(got - want).abs().max()}'
        print(f'{cls.__name__}: transformers agrees (max diff {(got - want).abs().max():.2e})')


if __name__ == '__main__':
    main()
