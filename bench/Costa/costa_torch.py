"""CoSTA's ConvNet and bi-tempered loss in PyTorch, shared by pytorch_costa.py (the whole pipeline) and pytorch_step.py
(step and feature-pass timing); written from ../shared/docs/methods-reference.md §1, not the authors' code."""
import torch


class ConvNet(torch.nn.Module):
    """48x48 images: 3 x (Conv 5x5 (first stride 2), BatchNorm, ReLU/ReLU/Tanh, MaxPool 2), 128 channels; fc to K."""

    def __init__(self, K):
        super().__init__()
        blk = lambda cin, k, s, act: torch.nn.Sequential(torch.nn.Conv2d(cin, 128, k, s, 1), torch.nn.BatchNorm2d(128), act, torch.nn.MaxPool2d(2))
        self.l1, self.l2, self.l3 = blk(1, 5, 2, torch.nn.ReLU()), blk(128, 5, 1, torch.nn.ReLU()), blk(128, 5, 1, torch.nn.Tanh())
        self.fc = torch.nn.Linear(128, K)
        for l in (self.l1, self.l2, self.l3):
            torch.nn.init.xavier_uniform_(l[0].weight)

    def feat(self, x):
        return torch.nn.functional.normalize(self.l3(self.l2(self.l1(x))).flatten(1), dim=1)

    def forward(self, x):
        return self.fc(self.feat(x))


def log_t(u, t):
    return torch.log(u) if t == 1 else (u.pow(1 - t) - 1) / (1 - t)


def exp_t(u, t):
    return torch.exp(u) if t == 1 else torch.relu(1 + (1 - t) * u).pow(1 / (1 - t))


class Normaliser(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, t, iters):
        mu = a.max(-1, keepdim=True).values
        a0 = a - mu
        an = a0
        for _ in range(iters):
            an = a0 * exp_t(an, t).sum(-1, keepdim=True).pow(1 - t)
        z = -log_t(1 / exp_t(an, t).sum(-1, keepdim=True), t) + mu
        ctx.save_for_backward(a, z); ctx.t = t
        return z

    @staticmethod
    def backward(ctx, g):
        a, z = ctx.saved_tensors
        p = exp_t(a - z, ctx.t)
        esc = p.pow(ctx.t); esc = esc / esc.sum(-1, keepdim=True)
        return esc * g, None, None


def bi_tempered(logits, y, t1=0.8, t2=1.2):
    p = exp_t(logits - Normaliser.apply(logits, t2, 5), t2)
    l = y * log_t(y + 1e-10, t1) - y * log_t(p, t1) - y.pow(2 - t1) / (2 - t1) + p.pow(2 - t1) / (2 - t1)
    return l.sum(-1).mean()
