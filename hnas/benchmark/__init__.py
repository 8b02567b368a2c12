"""Stand-alone ground truth: train archs from scratch with a fixed recipe, measure the noise ceiling.

``recipe`` fixes the training; ``standalone`` trains one arch; ``runlog`` records finished runs;
``groundtruth`` draws archs stratified over FLOPs and builds the benchmark files; ``noise``
computes the seed-vs-seed ceiling.
"""
