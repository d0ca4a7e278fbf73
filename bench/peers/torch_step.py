#!/usr/bin/env python3
"""The PyTorch peer for the GPU machine: one ELECTRA pre-training step with Hugging Face transformers
(ElectraForMaskedLM generator + ElectraForPreTraining discriminator, shared embeddings, Gumbel-max
sampling, loss = MLM + 50 * disc, AdamW), timed on the GPU, so the engine's step can be compared on the
same GPU in the same session.

  python3 bench/peers/torch_step.py [--preset small] [--batch 128] [--seq 128] [--steps 20] [--precision fp32|tf32|bf16]
                        [--json OUT.json]
Prints and writes {preset, batch, seq, precision, ms, tokensPerSec, params}."""
import argparse, json, time
import torch
from transformers import ElectraConfig, ElectraForMaskedLM, ElectraForPreTraining

PRESETS = {  # discriminator (hidden, layers, heads, ffn, embedding), generator width fraction
    'small': dict(hidden=256, layers=12, heads=4, ffn=1024, emb=128, gen=0.25),
    'base': dict(hidden=768, layers=12, heads=12, ffn=3072, emb=768, gen=1 / 3),
}

def configs(p, V):
    d = ElectraConfig(vocab_size=V, embedding_size=p['emb'], hidden_size=p['hidden'], num_hidden_layers=p['layers'],
                      num_attention_heads=p['heads'], intermediate_size=p['ffn'])
    gh = round(p['hidden'] * p['gen'])
    g = ElectraConfig(vocab_size=V, embedding_size=p['emb'], hidden_size=gh, num_hidden_layers=p['layers'],
                      num_attention_heads=max(1, gh // 64), intermediate_size=4 * gh)
    return d, g

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--preset', default='small'); ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--seq', type=int, default=128); ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--precision', default='fp32', choices=['fp32', 'tf32', 'bf16']); ap.add_argument('--json')
    ap.add_argument('--vocab', type=int, default=30522)
    ap.add_argument('--gather', action='store_true', help='generator LM head only at masked positions (as the authors)')
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = a.precision == 'tf32'
    dev = 'cuda'
    dc, gc = configs(PRESETS[a.preset], a.vocab)
    disc, gen = ElectraForPreTraining(dc).to(dev), ElectraForMaskedLM(gc).to(dev)
    gen.electra.embeddings = disc.electra.embeddings          # shared embeddings, as the authors
    gen.generator_lm_head.weight = disc.electra.embeddings.word_embeddings.weight
    params = {id(p): p for m in (disc, gen) for p in m.parameters()}.values()
    opt = torch.optim.AdamW(params, lr=5e-4, eps=1e-6, weight_decay=0.01)
    B, T, V = a.batch, a.seq, a.vocab
    ids = torch.randint(200, V, (B, T), device=dev); ids[:, 0] = 101; ids[:, -1] = 102
    att = torch.ones_like(ids)
    n_pred = int((0.15 + 0.005) * T)

    def step():
        pos = torch.rand(B, T, device=dev)[:, 1:-1].topk(n_pred, dim=1).indices + 1
        masked = ids.clone(); masked.scatter_(1, pos, 103)
        with torch.autocast('cuda', dtype=torch.bfloat16, enabled=a.precision == 'bf16'):
            if a.gather:   # hidden states at the masked positions only, then the LM head (the authors' way)
                h = gen.electra(input_ids=masked, attention_mask=att).last_hidden_state
                h = h.gather(1, pos[..., None].expand(-1, -1, h.shape[-1]))
                gsel = gen.generator_lm_head(gen.generator_predictions(h))        # [B, P, V]
            else:
                glogits = gen(input_ids=masked, attention_mask=att).logits          # [B, T, V]
                gsel = glogits.gather(1, pos[..., None].expand(-1, -1, V))         # [B, P, V]
            target = ids.gather(1, pos)
            mlm = torch.nn.functional.cross_entropy(gsel.float().reshape(-1, V), target.reshape(-1))
            with torch.no_grad():
                u = torch.rand_like(gsel, dtype=torch.float32)
                sampled = (gsel.float() - torch.log(-torch.log(u + 1e-9) + 1e-9)).argmax(-1)
                fake = ids.clone(); fake.scatter_(1, pos, sampled)
                labels = (fake != ids).float()
            dlogits = disc(input_ids=fake, attention_mask=att).logits
            dl = torch.nn.functional.binary_cross_entropy_with_logits(dlogits.float(), labels)
            loss = mlm + 50.0 * dl
        opt.zero_grad(set_to_none=True); loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step()
        return loss

    for _ in range(3): step()
    torch.cuda.synchronize(); t0 = time.perf_counter()
    for _ in range(a.steps): step()
    torch.cuda.synchronize(); ms = (time.perf_counter() - t0) * 1000 / a.steps
    res = dict(preset=a.preset, batch=B, seq=T, vocab=V, gather=a.gather, precision=a.precision, ms=ms, tokensPerSec=B * T / ms * 1000,
               params=sum(p.numel() for p in params), gpu=torch.cuda.get_device_name(0), torch=torch.__version__)
    print(json.dumps(res))
    if a.json: json.dump(res, open(a.json, 'w'))

if __name__ == '__main__':
    main()
