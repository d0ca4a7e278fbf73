#!/usr/bin/env python3
"""Writes the small checkpoint fixtures under test/fixtures/checkpoint/ with real torch.save.

Dev-time only: needs PyTorch (Debian: `apt-get install -y python3-torch`, 1.13; run with /usr/bin/python3).
CI never runs this; it only reads the committed fixtures. Deterministic (seeded): re-running rewrites the same
bytes, except odd-legacy.bin, whose storage keys are memory addresses in the legacy format.

Files (each well under 200 KB):
  tiny-disc.bin            ElectraForPreTraining-shaped state dict (HF names, E=8 H=16 L=1 V=40), zip format,
                           with the `electra.embeddings.position_ids` buffer and the `_metadata` attribute
  tiny-disc.safetensors    the same tensors, written by write_safetensors() below, which follows the reference
                           serializer (huggingface/safetensors tensor.rs `prepare`: dtype-descending then name
                           order, compact JSON, space padding to 8) -- the safetensors wheel is not on Debian
  tiny-gen-legacy.bin      ElectraForMaskedLM-shaped, legacy LayerNorm names (gamma/beta), and
                           generator_lm_head.weight sharing one storage with the word embeddings (tied)
  odd.bin / odd-legacy.bin views and dtypes: transposed (non-contiguous), slice with a storage offset, f16, bf16,
                           f64, int32, int64, scalar, empty, an nn.Parameter; zip and pre-1.6 legacy format
  odd.json                 the values torch sees for odd.bin (contiguous, as float/int lists)
  evil-os-system.bin       zip whose data.pkl calls os.system (GLOBAL) -- must be refused, never executed
  evil-eval.bin            zip whose data.pkl calls builtins.eval via STACK_GLOBAL (protocol 4)
  config-small-disc.json   google/electra-small-discriminator's config.json field set (spec 1.3)
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'checkpoint')
os.makedirs(OUT, exist_ok=True)
g = torch.Generator().manual_seed(1234)


def rnd(*shape):
    return (torch.randn(*shape, generator=g) * 0.5).float()


V, E, H, L, FFN, P, T = 40, 8, 16, 1, 32, 12, 2


def electra_body(ln_w='weight', ln_b='bias'):
    sd = collections.OrderedDict()
    sd['electra.embeddings.position_ids'] = torch.arange(P).unsqueeze(0)
    sd['electra.embeddings.word_embeddings.weight'] = rnd(V, E)
    sd['electra.embeddings.position_embeddings.weight'] = rnd(P, E)
    sd['electra.embeddings.token_type_embeddings.weight'] = rnd(T, E)
    sd[f'electra.embeddings.LayerNorm.{ln_w}'] = 1 + rnd(E) * 0.1
    sd[f'electra.embeddings.LayerNorm.{ln_b}'] = rnd(E) * 0.1
    sd['electra.embeddings_project.weight'] = rnd(H, E)
    sd['electra.embeddings_project.bias'] = rnd(H)
    for i in range(L):
        p = f'electra.encoder.layer.{i}.'
        for m in ('query', 'key', 'value'):
            sd[p + f'attention.self.{m}.weight'] = rnd(H, H)
            sd[p + f'attention.self.{m}.bias'] = rnd(H)
        sd[p + 'attention.output.dense.weight'] = rnd(H, H)
        sd[p + 'attention.output.dense.bias'] = rnd(H)
        sd[p + f'attention.output.LayerNorm.{ln_w}'] = 1 + rnd(H) * 0.1
        sd[p + f'attention.output.LayerNorm.{ln_b}'] = rnd(H) * 0.1
        sd[p + 'intermediate.dense.weight'] = rnd(FFN, H)
        sd[p + 'intermediate.dense.bias'] = rnd(FFN)
        sd[p + 'output.dense.weight'] = rnd(H, FFN)
        sd[p + 'output.dense.bias'] = rnd(H)
        sd[p + f'output.LayerNorm.{ln_w}'] = 1 + rnd(H) * 0.1
        sd[p + f'output.LayerNorm.{ln_b}'] = rnd(H) * 0.1
    sd._metadata = collections.OrderedDict([('', {'version': 1}), ('electra', {'version': 1})])
    return sd


def write_safetensors(path, tensors, metadata=None):
    names = {torch.float32: 'F32', torch.int64: 'I64', torch.int32: 'I32', torch.float16: 'F16'}
    rank = ['BOOL', 'F4', 'F6_E2M3', 'F6_E3M2', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F8_E4M3FNUZ',
            'F8_E5M2FNUZ', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'C64', 'F64', 'I64', 'U64']
    items = sorted(tensors.items(), key=lambda kv: (-rank.index(names[kv[1].dtype]), kv[0].encode()))
    header, blobs, off = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, t in items:
        b = t.contiguous().numpy().astype(t.numpy().dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': names[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    js = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode()
    js += b' ' * (-len(js) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)) + js + b''.join(blobs))


# 1. discriminator, zip format, plus the same tensors as safetensors
disc = electra_body()
disc['discriminator_predictions.dense.weight'] = rnd(H, H)
disc['discriminator_predictions.dense.bias'] = rnd(H)
disc['discriminator_predictions.dense_prediction.weight'] = rnd(1, H)
disc['discriminator_predictions.dense_prediction.bias'] = rnd(1)
torch.save(disc, os.path.join(OUT, 'tiny-disc.bin'))
write_safetensors(os.path.join(OUT, 'tiny-disc.safetensors'), disc, {'format': 'pt'})

# 2. generator with legacy names and the tied head sharing the word-embedding storage
gen = electra_body('gamma', 'beta')
gen['generator_predictions.dense.weight'] = rnd(E, H)
gen['generator_predictions.dense.bias'] = rnd(E)
gen['generator_predictions.LayerNorm.gamma'] = 1 + rnd(E) * 0.1
gen['generator_predictions.LayerNorm.beta'] = rnd(E) * 0.1
gen['generator_lm_head.weight'] = gen['electra.embeddings.word_embeddings.weight']
gen['generator_lm_head.bias'] = rnd(V)
torch.save(gen, os.path.join(OUT, 'tiny-gen-legacy.bin'))

# 3. views and dtypes
base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
odd = collections.OrderedDict()
odd['transposed'] = base.t()                                   # [6,4], strides (1,6)
odd['sliced'] = base[1:3, 2:5]                                 # offset 8, strides (6,1)
odd['strided'] = torch.arange(30, dtype=torch.float32)[3::4]   # offset 3, stride 4
odd['half'] = torch.tensor([1.0, -2.5, 65504.0, 6e-8, -0.0], dtype=torch.float16)
odd['bfloat'] = torch.tensor([1.0, -3.140625, 1e30], dtype=torch.bfloat16)
odd['double'] = torch.tensor([[0.1, -1e-3]], dtype=torch.float64)
odd['int32'] = torch.tensor([-7, 2147483647], dtype=torch.int32)
odd['int64'] = torch.arange(5, dtype=torch.int64).unsqueeze(0)
odd['scalar'] = torch.tensor(2.5)
odd['empty'] = torch.zeros(0, 3)
odd['param'] = torch.nn.Parameter(torch.tensor([[1.5, -1.5]]))
odd['half_t'] = torch.arange(6, dtype=torch.float16).reshape(2, 3).t()
torch.save(odd, os.path.join(OUT, 'odd.bin'))
torch.save(odd, os.path.join(OUT, 'odd-legacy.bin'), _use_new_zipfile_serialization=False)
with open(os.path.join(OUT, 'odd.json'), 'w') as f:
    json.dump({k: {'shape': list(v.shape),
                   'values': (v.detach().contiguous().reshape(-1).tolist() if v.dtype in (torch.int32, torch.int64)
                              else v.detach().float().contiguous().reshape(-1).tolist())}
               for k, v in odd.items()}, f, indent=1)


# 4. hostile pickles inside a torch-shaped zip (built by hand: nothing here is ever unpickled)
class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


MARKER = '/tmp/electra-webgpu-pickle-executed'


def evil_zip(name, payload):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
        for name_, data in (('archive/data.pkl', payload), ('archive/version', b'3\n')):
            z.writestr(zipfile.ZipInfo(name_, date_time=(2020, 1, 1, 0, 0, 0)), data)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(buf.getvalue())


evil_zip('evil-os-system.bin', pickle.dumps({'w': Evil(os.system, f'touch {MARKER}')}, protocol=2))
evil_zip('evil-eval.bin', pickle.dumps({'w': Evil(eval, f"open('{MARKER}','w')")}, protocol=4))

# 5. the released small discriminator's config.json field set (values from spec 1.3)
cfg = {
    'architectures': ['ElectraForPreTraining'], 'attention_probs_dropout_prob': 0.1, 'embedding_size': 128,
    'hidden_act': 'gelu', 'hidden_dropout_prob': 0.1, 'hidden_size': 256, 'initializer_range': 0.02,
    'intermediate_size': 1024, 'layer_norm_eps': 1e-12, 'max_position_embeddings': 512, 'model_type': 'electra',
    'num_attention_heads': 4, 'num_hidden_layers': 12, 'pad_token_id': 0, 'position_embedding_type': 'absolute',
    'summary_activation': 'gelu', 'summary_last_dropout': 0.1, 'summary_type': 'first', 'summary_use_proj': True,
    'type_vocab_size': 2, 'vocab_size': 30522,
}
with open(os.path.join(OUT, 'config-small-disc.json'), 'w') as f:
    json.dump(cfg, f, indent=2, sort_keys=True)
for n in sorted(os.listdir(OUT)):
    print(f'{os.path.getsize(os.path.join(OUT, n)):>8}  {n}')
