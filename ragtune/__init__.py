"""ragtune's top floor: each step as a library function `run(config) -> result` and the `ragtune` command.

from ragtune.steps import triplets, pool, train, eval
t = triplets.run(triplets.TripletsConfig())
p = pool.run(pool.PoolStepConfig())
m = train.run(train.TrainStepConfig())
e = eval.run(eval.EvalConfig())
print(e.headline)
"""
