#!/usr/bin/env python3
"""Continue an electra-webgpu pre-training run in PyTorch on several GPUs (DDP under torchrun).

UNRUN: written where PyTorch could not be installed; `python3 -m py_compile` is all it has been through. The GPU
machine must run it once before it is trusted (docs/scale-out.md says how and what to check).

Loads RUN/discriminator (ElectraForPreTraining) and RUN/generator (ElectraForMaskedLM) with Hugging Face
transformers, ties them as electra-webgpu does (one embeddings module: word, position and token-type embeddings and
the embedding LayerNorm; the generator's output layer is the word embedding table), and continues the same
objective (spec §2, src/electra/model/pretrain.ts):
  - dynamic masking as the authors: N = int((p + 0.005) T) slots drawn with replacement among real tokens other than
    [CLS]/[SEP]/[MASK], max(1, min(N, round_half_even(len p))) of them used, 85% [MASK] / 15% kept, duplicates
    averaged by scatter_update;
  - generator MLM on the masked slots; replacements by Gumbel-max sampling at temperature 1 without gradient;
  - discriminator BCE over real tokens, a correct sample labelled original; loss = MLM + 50 disc;
  - Adam without bias correction (eps 1e-6), decoupled weight decay 0.01 except LayerNorm and biases, global-norm clip
    1.0, lr = peak * linear decay * linear warmup, from the run's own step, peak and warmup (RUN/run-config.json);
  - Adam moments and the step count from RUN/state/ when present (the optimizer continues; skip with --fresh-optimizer).
Data: the run's shards (RUN/data, or the --data DIR it was trained on, or any `electra build-data` output made with
RUN/discriminator/vocab.txt); the last shard is held out for evaluation, as the engine does.

OUT gets the run layout the engine reads: discriminator/ and generator/ (Hugging Face, safetensors, vocab.txt),
state/ (weights and moments under the engine's names, trainer.json), run-config.json and metrics.jsonl (`electra
plot OUT`, and `electra detect --model OUT/discriminator` works on it).

  torchrun --nproc_per_node=8 scripts/continue-in-pytorch.py --run runs/tiny --out runs/tiny-torch --steps 100000
  python3 scripts/continue-in-pytorch.py --run runs/tiny --out runs/tiny-torch --steps 2000      # one GPU (or CPU)

--batch is per GPU (default: the run's); the global batch is batch x GPUs. Different RNG streams and data order than
the engine: the continuation is the same objective and optimizer state, not the same numbers.
"""
import argparse
import json
import os
import shutil
import struct
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import ElectraForMaskedLM, ElectraForPreTraining


# ---- data: the engine's binary shards (src/text/shard.ts, version 1) --------------------------------------------

def read_shard(path):
    """(offsets[count + 1], first_seg_end[count], tokens[total]) of one shard file."""
    b = np.fromfile(path, dtype=np.uint8)
    if bytes(b[:8]) != b'EWGSHARD':
        raise ValueError(f'{path}: not an electra-webgpu shard')
    version, header = struct.unpack_from('<II', b, 8)
    if version != 1 or header != 64:
        raise ValueError(f'{path}: shard version {version}, header {header} bytes; this script reads version 1')
    vocab_size, seq_len, count, id_bytes, total = struct.unpack_from('<IIIII', b, 24)
    offsets = np.frombuffer(b, '<u4', count + 1, 64)
    seg_at = 64 + 4 * (count + 1)
    first = np.frombuffer(b, '<u2', count, seg_at)
    tokens = np.frombuffer(b, '<u2' if id_bytes == 2 else '<u4', total, (seg_at + 2 * count + 3) & ~3)
    return offsets, first, tokens, vocab_size, seq_len


class Shards:
    """All examples of some shards; batch(rows) packs them as the engine's BatchReader: [CLS] A [SEP] (B [SEP]),
    segment 1 from the end of A, zero padding (id 0) and attention mask 0 after the example."""

    def __init__(self, paths, seq_len):
        self.examples = []
        for p in paths:
            offsets, first, tokens, _, shard_len = read_shard(p)
            if shard_len > seq_len:
                raise ValueError(f'{p}: examples up to {shard_len} tokens, longer than --seq-len {seq_len}')
            self.examples += [(tokens[offsets[i]:offsets[i + 1]], int(first[i])) for i in range(len(first))]
        self.seq_len = seq_len

    def batch(self, rows):
        B, T = len(rows), self.seq_len
        ids, types, att = (np.zeros((B, T), np.int64) for _ in range(3))
        for r, k in enumerate(rows):
            toks, first = self.examples[k]
            ids[r, :len(toks)] = toks
            att[r, :len(toks)] = 1
            types[r, first:len(toks)] = 1
        return torch.from_numpy(ids), torch.from_numpy(types), torch.from_numpy(att)


def train_batches(data, batch, rank, world, seed, skip):
    """Endless batches of this rank's share: each epoch one permutation (seeded), rank r takes rows r::world.
    `skip` batches are skipped (a resumed run continues where its data ended)."""
    epoch, n = 0, 0
    while True:
        perm = np.random.default_rng([seed, epoch]).permutation(len(data.examples))[rank::world]
        for i in range(0, len(perm) - batch + 1, batch):
            n += 1
            if n > skip:
                yield data.batch(perm[i:i + batch])
        epoch += 1


# ---- the objective ----------------------------------------------------------------------------------------------

def scatter_update(seq, updates, pos):
    """The authors' scatter_update: write updates at pos; duplicates summed then floor-divided by their count;
    position 0 never written. Returns (new seq, updated mask)."""
    total = torch.zeros_like(seq).scatter_add_(1, pos, updates)
    count = torch.zeros_like(seq).scatter_add_(1, pos, torch.ones_like(pos))
    count[:, 0] = 0
    updated = count > 0
    return torch.where(updated, torch.div(total, count.clamp(min=1), rounding_mode='floor'), seq), updated


def mask_batch(ids, att, special, mask_prob, gen):
    """Dynamic masking (spec §2.2): returns generator input, positions [B, N], targets [B, N], used [B, N]."""
    B, T = ids.shape
    N = int((mask_prob + 0.005) * T)
    cand = att.bool() & (ids != special['cls']) & (ids != special['sep']) & (ids != special['mask'])
    has = cand.any(1)
    k = torch.round(att.sum(1).float() * torch.tensor(mask_prob, dtype=torch.float32)).long().clamp(1, N)  # half to even
    weights = torch.where(has[:, None], cand.float(), torch.ones_like(cand, dtype=torch.float))
    pos = torch.multinomial(weights, N, replacement=True, generator=gen)
    used = (torch.arange(N, device=ids.device)[None, :] < k[:, None]) & has[:, None]
    pos = torch.where(used, pos, torch.zeros_like(pos))
    targets = torch.where(used, ids.gather(1, pos), torch.zeros_like(pos))
    to_mask = torch.rand(B, N, device=ids.device, generator=gen) < 0.85
    masked, _ = scatter_update(ids, torch.where(to_mask, torch.full_like(targets, special['mask']), targets), pos)
    return masked, pos, targets, used


class Pair(torch.nn.Module):
    """Generator + discriminator with the engine's tying; forward returns the loss and detached statistics."""

    def __init__(self, disc, gen, special, mask_prob, disc_weight=50.0):
        super().__init__()
        self.disc, self.gen = disc, gen
        self.special, self.mask_prob, self.disc_weight = special, mask_prob, disc_weight

    def forward(self, ids, types, att, gen_rng):
        masked, pos, targets, used = mask_batch(ids, att, self.special, self.mask_prob, gen_rng)
        # Generator: hidden states at the masked slots only, then its head (dense, GELU, LayerNorm, @ embeddings^T + b).
        h = self.gen.electra(input_ids=masked, token_type_ids=types, attention_mask=att).last_hidden_state
        h = h.gather(1, pos[..., None].expand(-1, -1, h.shape[-1]))
        logits = self.gen.generator_lm_head(self.gen.generator_predictions(h)).float()          # [B, N, V]
        w = used.float()
        ce = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction='none').view_as(w)
        mlm = (ce * w).sum() / (w.sum() + 1e-6)
        with torch.no_grad():  # Gumbel-max at temperature 1; no gradient reaches the generator through the sample
            u = torch.rand(logits.shape, device=logits.device, generator=gen_rng)
            sampled = (logits - torch.log(-torch.log(u + 1e-9) + 1e-9)).argmax(-1)
            fake, updated = scatter_update(ids, torch.where(used, sampled, ids.gather(1, pos)), pos)
            labels = (updated & (fake != ids)).float()
        dlogits = self.disc(input_ids=fake, token_type_ids=types, attention_mask=att).logits.float()   # [B, T]
        m = att.float()
        disc = (F.binary_cross_entropy_with_logits(dlogits, labels, reduction='none') * m).sum() / (m.sum() + 1e-6)
        loss = mlm + self.disc_weight * disc
        with torch.no_grad():
            stats = dict(mlmLoss=mlm.detach(), discLoss=disc.detach(),
                         mlmAcc=((logits.argmax(-1) == targets).float() * w).sum() / w.sum().clamp(min=1),
                         discAcc=(((dlogits > 0).float() == labels).float() * m).sum() / m.sum(),
                         replaced=(labels * m).sum() / m.sum())
        return loss, stats, (dlogits.detach(), labels, m)


def auc(scores, labels):
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    order = np.argsort(scores, kind='mergesort')
    s, y = scores[order], labels[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i:j + 1] = (i + j) / 2 + 1
        i = j + 1
    pos = y.sum()
    neg = len(y) - pos
    return float('nan') if pos == 0 or neg == 0 else float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


# ---- the optimizer: the authors' AdamWeightDecayOptimizer -------------------------------------------------------

class AdamNoBiasCorrection:
    """m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m / (sqrt(v) + eps) + wd p) (wd only where decayed)."""

    def __init__(self, named, weight_decay=0.01, betas=(0.9, 0.999), eps=1e-6):
        self.slots = [(n, p, torch.zeros_like(p), torch.zeros_like(p), not any(x in n for x in ('LayerNorm', 'layer_norm', 'bias')))
                      for n, p in named]
        self.wd, (self.b1, self.b2), self.eps, self.step_count = weight_decay, betas, eps, 0

    @torch.no_grad()
    def step(self, lr):
        self.step_count += 1
        for _, p, m, v, decay in self.slots:
            if p.grad is None:
                continue
            m.mul_(self.b1).add_(p.grad, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(p.grad, p.grad, value=1 - self.b2)
            update = m / (v.sqrt() + self.eps)
            if decay:
                update.add_(p, alpha=self.wd)
            p.add_(update, alpha=-lr)


def schedule(step, peak, warmup, total):
    """lr for the 0-based step about to be taken: peak (1 - min(step, total)/total) min(1, step/warmup)."""
    return peak * (1 - min(step, total) / total) * (min(1.0, step / warmup) if warmup > 0 else 1.0)


# ---- main -------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--run', required=True, help='an electra-webgpu run directory (discriminator/, generator/, run-config.json)')
    ap.add_argument('--out', required=True, help='where the continued run goes (a new directory, or one this script wrote to resume it)')
    ap.add_argument('--steps', type=int, required=True, help='total optimizer steps, counted from the run\'s start (the schedule decays to 0 there)')
    ap.add_argument('--data', help='shards (manifest.json); default: the run\'s own')
    ap.add_argument('--batch', type=int, help='sequences per GPU per step (default: the run\'s batch)')
    ap.add_argument('--lr', type=float, help='peak lr (default: the run\'s)')
    ap.add_argument('--log-every', type=int, default=100)
    ap.add_argument('--eval-every', type=int, default=1000)
    ap.add_argument('--eval-batches', type=int, default=16)
    ap.add_argument('--save-every', type=int, default=5000)
    ap.add_argument('--precision', choices=['fp32', 'tf32', 'bf16'], default='fp32', help='fp32 as the engine; tf32/bf16 are faster')
    ap.add_argument('--fresh-optimizer', action='store_true', help='start Adam from zero moments instead of RUN/state')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()

    distributed = 'RANK' in os.environ
    if distributed:
        dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    local = int(os.environ.get('LOCAL_RANK', 0))
    device = torch.device(f'cuda:{local}' if torch.cuda.is_available() else 'cpu')
    if device.type == 'cuda':
        torch.cuda.set_device(device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = a.precision == 'tf32'
    say = print if rank == 0 else (lambda *_: None)

    # Resuming this script's own output, else continuing the engine's run.
    src = a.out if os.path.exists(os.path.join(a.out, 'state', 'trainer.json')) else a.run
    rc = json.load(open(os.path.join(a.run, 'run-config.json')))
    data_dir = a.data or rc.get('data') or os.path.join(a.run, 'data')
    manifest = json.load(open(os.path.join(data_dir, 'manifest.json')))
    files = [os.path.join(data_dir, s['file']) for s in manifest['shards']]
    train_files, eval_files = (files[:-1], files[-1:]) if len(files) > 1 else (files, files)

    disc = ElectraForPreTraining.from_pretrained(os.path.join(src, 'discriminator'))
    gen = ElectraForMaskedLM.from_pretrained(os.path.join(src, 'generator'))
    # The tying: the generator's copy of the embeddings equals the discriminator's (the engine exports the one it
    # trains twice); replace it by the discriminator's module and point the output layer at its word table.
    diff = max((a_ - b_).abs().max().item() for a_, b_ in zip(gen.electra.embeddings.state_dict().values(), disc.electra.embeddings.state_dict().values()))
    if diff > 0:
        raise ValueError(f'{src}: the generator\'s embeddings differ from the discriminator\'s by {diff}: not a tied pair')
    gen.electra.embeddings = disc.electra.embeddings
    gen.generator_lm_head.weight = disc.electra.embeddings.word_embeddings.weight
    disc.to(device).train()
    gen.to(device).train()

    vocab = open(os.path.join(a.run, 'discriminator', 'vocab.txt'), encoding='utf-8').read().split('\n')
    special = {k: vocab.index(t) for k, t in (('cls', '[CLS]'), ('sep', '[SEP]'), ('mask', '[MASK]'))}
    pair = Pair(disc, gen, special, rc['maskProb'], rc['discWeight']).to(device)
    model = torch.nn.parallel.DistributedDataParallel(pair, device_ids=[local] if device.type == 'cuda' else None) if distributed else pair

    # Parameters under the engine's names: the discriminator's (with the shared embeddings), then the generator's own.
    named, seen = [], set()
    for prefix, net in (('discriminator.', disc), ('generator.', gen)):
        for n, p in net.named_parameters():
            if id(p) not in seen:
                seen.add(id(p))
                named.append((prefix + n, p))
    opt = AdamNoBiasCorrection(named, weight_decay=rc['weightDecay'], eps=rc['adamEps'])
    trainer = {'step': 0, 'position': 0}
    state_dir = os.path.join(src, 'state')
    if os.path.exists(os.path.join(state_dir, 'trainer.json')):
        trainer = json.load(open(os.path.join(state_dir, 'trainer.json')))
        if not a.fresh_optimizer:
            moments = load_file(os.path.join(state_dir, 'optimizer.safetensors'))
            missing = [n for n, *_ in opt.slots if f'm.{n}' not in moments or f'v.{n}' not in moments]
            if missing:
                raise ValueError(f'{state_dir}/optimizer.safetensors has no moments for {missing[:5]} ({len(missing)} in all); '
                                 'use --fresh-optimizer to start Adam from zero')
            for n, _, m, v, _ in opt.slots:
                m.copy_(moments[f'm.{n}'])
                v.copy_(moments[f'v.{n}'])
            opt.step_count = trainer.get('optimizerStep', trainer['step'])
    start = trainer['step']
    if a.steps <= start:
        raise SystemExit(f'--steps {a.steps}: {src} is already at step {start}')
    peak, warmup = a.lr or rc['lr'], rc['warmupSteps']
    batch = a.batch or rc['batchSize']
    say(f'continuing {src} at step {start} -> {a.steps} on {world} x {device.type}, batch {batch} per rank '
        f'({batch * world} global), peak lr {peak}, warmup {warmup}, {sum(p.numel() for _, p in named):,} parameters')

    train = Shards(train_files, rc['seqLength'])
    heldout = Shards(eval_files, rc['seqLength'])
    # Batches consumed by this script so far (its own resume); the engine's data position is not replayed.
    skip = trainer.get('torchBatches', 0)
    batches = train_batches(train, batch, rank, world, a.seed, skip)
    gen_rng = torch.Generator(device=device)
    gen_rng.manual_seed(a.seed * 1000003 + rank * 7919 + start)
    os.makedirs(a.out, exist_ok=True)
    params = [p for _, p in named]

    def evaluate():
        pair.eval()
        rng = torch.Generator(device=device)
        rng.manual_seed(999)
        scores, labels, tally = [], [], {}
        with torch.no_grad():
            for i in range(a.eval_batches):
                ids, types, att = (x.to(device) for x in heldout.batch([(i * batch + j) % len(heldout.examples) for j in range(batch)]))
                loss, st, (dl, lab, m) = pair(ids, types, att, rng)
                keep = m.bool()
                scores.append(dl[keep].cpu().numpy())
                labels.append(lab[keep].cpu().numpy())
                for k, v in dict(loss=loss, **st).items():
                    tally[k] = tally.get(k, 0.0) + float(v) / a.eval_batches
        pair.train()
        return dict(tally, discAuc=auc(np.concatenate(scores), np.concatenate(labels)))

    def save(step, batches_done):
        if rank != 0:
            return
        for name, net in (('discriminator', disc), ('generator', gen)):
            d = os.path.join(a.out, name)
            net.save_pretrained(d, safe_serialization=True)
            shutil.copy(os.path.join(a.run, 'discriminator', 'vocab.txt'), os.path.join(d, 'vocab.txt'))
        st = os.path.join(a.out, 'state')
        os.makedirs(st, exist_ok=True)
        save_file({n: p.detach().contiguous().cpu() for n, p in named}, os.path.join(st, 'weights.safetensors'))
        save_file({f'{k}.{n}': t.contiguous().cpu() for n, _, m, v, _ in opt.slots for k, t in (('m', m), ('v', v))},
                  os.path.join(st, 'optimizer.safetensors'))
        json.dump({'step': step, 'rng': {'seed': rc['seed'] + 1, 'counter': 0}, 'position': 0, 'optimizerStep': opt.step_count,
                   'torchBatches': batches_done}, open(os.path.join(st, 'trainer.json'), 'w'), indent=2)
        json.dump(dict(rc, steps=a.steps, lr=peak, batchSize=batch * world), open(os.path.join(a.out, 'run-config.json'), 'w'), indent=2)

    log = open(os.path.join(a.out, 'metrics.jsonl'), 'a') if rank == 0 else None
    t0, tokens = time.time(), 0
    for step in range(start, a.steps):
        ids, types, att = next(batches)
        tokens += int(att.sum()) * world                    # counted on the host: no device sync
        ids, types, att = (x.to(device, non_blocking=True) for x in (ids, types, att))
        lr = schedule(step, peak, warmup, a.steps)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.precision == 'bf16'):
            loss, st, _ = model(ids, types, att, gen_rng)
        for p in params:
            p.grad = None
        loss.backward()                                     # DDP averages the gradients over ranks here
        grad_norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step(lr)
        done = step + 1
        if rank == 0 and (done % a.log_every == 0 or done == a.steps):
            rec = dict(step=done, split='train', loss=float(loss), **{k: float(v) for k, v in st.items()}, lr=lr,
                       gradNorm=float(grad_norm), tokensPerSec=tokens / (time.time() - t0))
            log.write(json.dumps(rec) + '\n')
            log.flush()
            say(' | '.join(f'{k} {v:.4g}' if isinstance(v, float) else f'{k} {v}' for k, v in rec.items() if k != 'split'))
            t0, tokens = time.time(), 0
        if rank == 0 and a.eval_every and (done % a.eval_every == 0 or done == a.steps):
            rec = dict(step=done, split='eval', **evaluate())
            log.write(json.dumps(rec) + '\n')
            log.flush()
            say('eval', rec)
        if done % a.save_every == 0 or done == a.steps:
            save(done, skip + done - start)
    say(f'done: {a.out} (discriminator/, generator/, state/, metrics.jsonl)')
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
