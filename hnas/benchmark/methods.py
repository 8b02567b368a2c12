"""The ranking methods ``hnas bench report`` compares: training-free priors and supernet recipes.

A :class:`Method` is either a prior (a ``PROXIES`` entry scored on each arch, no training)
or a supernet: the report's base training config plus a few ``section.key=value``
overrides. Every supernet method therefore shares the data, space, epochs, optimizer and
seeds of the base config; only the named settings differ, so the comparison is like for like.
A supernet method may add a few-shot stage (:class:`FewShotStage`): the trained supernet is
split into sub-supernets (``hnas fewshot train``) and the archs are scored by their part's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from hnas.errors import HnasError

#: ZenScore settings used by the report, for the prior column and the Zen-guided rank loss.
#: Four repeats of batch 8 give the same ordering as the reference 32 x 16 (the score's spread
#: over repeats is small) at a twentieth of the cost, which keeps a Zen-guided supernet
#: trainable on a CPU: every new arch met by the rank loss is scored once.
ZEN_ARGS: Mapping[str, Any] = {"repeats": 4, "batch_size": 8}


@dataclass(frozen=True)
class FewShotStage:
    """A few-shot stage after a supernet method's training (see :mod:`hnas.fewshot`).

    Attributes:
        split: the ``--split`` of ``hnas fewshot train`` (``depth3=2,3,4/5,6/7,8``).
        epochs: training epochs of each part.
    """

    split: str
    epochs: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"split": self.split, "epochs": self.epochs}


@dataclass(frozen=True)
class Method:
    """One column of the report.

    Attributes:
        name: short identifier (table row, file names, ``--methods``).
        description: what it is, for the table.
        prior: ``PROXIES`` name for a training-free prior; None for a supernet.
        prior_args: keyword options of the prior.
        overrides: config overrides (``section.key=value``) of a supernet method.
        fewshot: a few-shot stage after the supernet's training, or None.
        extra_epochs: epochs trained beyond the report's (base config and ``--set``), for a
            control with the few-shot row's budget.
    """

    name: str
    description: str
    prior: str | None = None
    prior_args: Mapping[str, Any] | None = None
    overrides: tuple[str, ...] = ()
    fewshot: FewShotStage | None = None
    extra_epochs: int = 0

    @property
    def is_prior(self) -> bool:
        return self.prior is not None


_SANDWICH_TWO_RANDOM = ("sampler.name=sandwich", "sampler.args.num_random=2", "sampler.args.rank_pairs=0")
#: The few-shot row's split: resnet48's stage 3 (2 to 8 blocks, the widest depth range) in three.
FEWSHOT_SPLIT = "depth3=2,3,4/5,6/7,8"
_SANDWICH_RANK_PAIR = ("sampler.name=sandwich", "sampler.args.num_random=0", "sampler.args.rank_pairs=1")

#: The default comparison, priors first. Each sandwich step trains four subnets, so the sandwich
#: variants cost the same per step; ``uniform``, ``spos`` and ``rss`` train one, ``pss`` and
#: ``ofa_ps`` three, ``fairnas`` the largest domain's size (7 on ``resnet48_tiny``). ``ofa_ps``
#: uses its default phases laid out over the base config's epochs.
METHODS: tuple[Method, ...] = (
    Method("flops", "FLOPs prior (more FLOPs ranks higher)", prior="flops"),
    Method("params", "parameter-count prior", prior="params"),
    Method("depth", "depth prior (more active residual blocks ranks higher)", prior="depth"),
    Method("width", "width prior (wider convs rank higher)", prior="width"),
    Method("zen", "ZenScore prior (4 repeats x 8 images)", prior="zen", prior_args=ZEN_ARGS),
    Method("uniform", "single path, one uniform random subnet per step (SPOS)",
           overrides=("sampler.name=uniform", "sampler.args={distribution: uniform, num_subnets: 1}")),
    Method("sandwich", "sandwich rule: largest + smallest + 2 random, in-place KD",
           overrides=_SANDWICH_TWO_RANDOM + ("loss.distill=kd",)),
    Method("sandwich_flops", "sandwich + FLOPs-guided pairwise rank loss",
           overrides=_SANDWICH_RANK_PAIR + ("loss.distill=kd", "loss.rank_prior=flops")),
    Method("sandwich_zen", "sandwich + ZenScore-guided pairwise rank loss",
           overrides=_SANDWICH_RANK_PAIR + ("loss.distill=kd", "loss.rank_prior=zen",
                                            "loss.rank_prior_args={repeats: 4, batch_size: 8}")),
    Method("sandwich_prelu", "sandwich with PReLU after each residual addition (outer_activation: prelu)",
           overrides=_SANDWICH_TWO_RANDOM + ("loss.distill=kd", "space.overrides={outer_activation: prelu}")),
    Method("sandwich_mish", "sandwich with Mish after each residual addition (outer_activation: mish)",
           overrides=_SANDWICH_TWO_RANDOM + ("loss.distill=kd", "space.overrides={outer_activation: mish}")),
    Method("sandwich_alpha", "sandwich + AlphaNet alpha-divergence distillation (the embedded default)",
           overrides=_SANDWICH_TWO_RANDOM + ("loss.distill=alpha",)),
    Method("spos", "SPOS: one path per step from a uniformly drawn FLOPs bin (10 bins)",
           overrides=("sampler.name=spos", "sampler.args={distribution: uniform, metric: flops, bins: 10}")),
    Method("fairnas", "FairNAS strict fairness: m=7 single paths covering every choice per step",
           overrides=("sampler.name=fairnas", "sampler.args={distribution: uniform}")),
    Method("pss", "PSS-Net: largest + pool/bucket subnet + smallest, FLOPs and params pools, KD",
           overrides=("sampler.name=pss", "sampler.args={distribution: uniform, metrics: [flops, params]}",
                      "loss.distill=kd")),
    Method("ofa_ps", "OFA progressive shrinking (depth, then width phases), largest + 2 students, KD",
           overrides=("sampler.name=ofa_ps", "sampler.args={distribution: uniform, num_subnets: 2}",
                      "loss.distill=kd")),
    Method("rss", "RSS: one random subnet per epoch, labels only",
           overrides=("sampler.name=rss", "sampler.args={distribution: uniform, anchor: false}")),
    Method("rss_anchor", "RSS Anchor: smallest on even epochs, largest on odd ones",
           overrides=("sampler.name=rss", "sampler.args={distribution: uniform, anchor: true}")),
    Method("dsnet", "DS-Net in-place bootstrapping: sandwich, students distilled from the weights' EMA "
                    "(decay 0.98), KD",
           overrides=_SANDWICH_TWO_RANDOM + ("loss.distill=kd", "loss.teacher=ema", "loss.ema_decay=0.98")),
    Method("sandwich_alpha_fewshot", "sandwich_alpha, then 3 few-shot parts by stage-3 depth (2-4/5-6/7-8), "
                                     "1 more epoch each",
           overrides=_SANDWICH_TWO_RANDOM + ("loss.distill=alpha",),
           fewshot=FewShotStage(split=FEWSHOT_SPLIT, epochs=1)),
    Method("sandwich_alpha_long", "sandwich_alpha trained 1 epoch longer (the epochs each few-shot part's "
                                  "weights get)",
           overrides=_SANDWICH_TWO_RANDOM + ("loss.distill=alpha",), extra_epochs=1),
)


def select_methods(names: Sequence[str] | None, methods: Sequence[Method] = METHODS) -> tuple[Method, ...]:
    """The methods named in ``names`` (all when None), in the given order.

    Raises:
        HnasError: an unknown or repeated name, listing the known ones.
    """
    if names is None:
        return tuple(methods)
    known = {method.name: method for method in methods}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise HnasError(f"unknown method(s) {unknown}; known: {', '.join(known)}")
    if len(set(names)) != len(names):
        raise HnasError(f"method named twice in {list(names)}")
    return tuple(known[name] for name in names)
