"""The eval runner: plans -> shards (one model revision each) -> lm-eval -> result files.

Data flows one way: `plan` (YAML, validated) -> `matrix` (what to run, what is done) ->
`executor` (where shards run) -> `shard` (load a revision once, evaluate every task, write its
result files atomically) -> results/. Heavy imports (lm_eval, torch) happen inside `shard`,
`resolve` and `tiny` only.
"""
